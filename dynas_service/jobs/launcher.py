"""Start runner processes, optionally from a pre-warmed *standby* runner.

A standby is a runner started ahead of time (``python -m dynas_service.jobs.runner
--standby``) that has already imported torch, Ray, the engine and MLflow and waits for a
job id on its stdin; handing it a job saves those seconds of the time to the first best.
After each hand-over a new standby is started in the background, ``REFILL_DELAY_S`` later:
its imports and its warm Ray workers (``engine/warm_workers.py``) would otherwise take the
CPU from the job that was just handed over while that job starts its first trials. A
standby whose API dies sees end-of-file on stdin and exits. Runners run in their own
session so they outlive the API.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

_log = logging.getLogger(__name__)
RUNNER = [sys.executable, "-m", "dynas_service.jobs.runner"]
REFILL_DELAY_S = 10.0


class RunnerLauncher:
    """Launch runners with ``env_for()``'s environment; thread-safe."""

    def __init__(
        self, env_for: Callable[[], dict[str, str]], log_dir: Path, *, standby: bool
    ) -> None:
        self._env_for = env_for
        self._log_dir = log_dir
        self._use_standby = standby
        self._spare: subprocess.Popen | None = None
        self._ready_file: Path | None = None
        self._lock = threading.Lock()
        self._closed = False

    def launch(self, job_id: str, job_dir: Path, *, resume: bool) -> subprocess.Popen:
        """A running runner for ``job_id`` (the standby if one is ready)."""
        with self._lock:
            spare, self._spare = self._spare, None
        child = self._hand_over(spare, job_id, resume) if spare is not None else None
        if child is None:
            child = self._start_direct(job_id, job_dir, resume)
        self.refill(delay_s=REFILL_DELAY_S)
        return child

    def _hand_over(
        self, spare: subprocess.Popen, job_id: str, resume: bool
    ) -> subprocess.Popen | None:
        if spare.poll() is not None or spare.stdin is None:
            return None
        try:
            spare.stdin.write(f"{job_id}{' --resume' if resume else ''}\n".encode())
            spare.stdin.close()
        except OSError:
            _log.warning("the standby runner %s is gone; starting a fresh runner", spare.pid)
            return None
        return spare

    def _start_direct(self, job_id: str, job_dir: Path, resume: bool) -> subprocess.Popen:
        command = [*RUNNER, job_id, *(["--resume"] if resume else [])]
        with (job_dir / "runner.log").open("ab") as log:
            return subprocess.Popen(
                command,
                env=self._env_for(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def refill(self, delay_s: float = 0.0) -> None:
        """Start a standby in the background (after ``delay_s``) unless one exists by then
        (no-op when disabled)."""
        if self._use_standby and not self._closed:
            timer = threading.Timer(delay_s, self._start_spare)
            timer.name, timer.daemon = "standby-runner", True
            timer.start()

    def _start_spare(self) -> None:
        with self._lock:
            if self._closed or (self._spare is not None and self._spare.poll() is None):
                return
            try:
                self._log_dir.mkdir(parents=True, exist_ok=True)
                ready = self._log_dir / f"standby-{uuid.uuid4().hex}.ready"
                with (self._log_dir / "standby-runners.log").open("ab") as log:
                    self._spare = subprocess.Popen(
                        [*RUNNER, "--standby", "--ready-file", str(ready)],
                        env=self._env_for(),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.PIPE,
                        start_new_session=True,
                    )
                self._ready_file = ready
            except Exception:
                _log.exception("could not start a standby runner")

    def standby_state(self) -> str:
        """``off``, ``none`` (not started), ``starting`` (importing) or ``ready``."""
        if not self._use_standby:
            return "off"
        with self._lock:
            spare, ready = self._spare, self._ready_file
        if spare is None or spare.poll() is not None:
            return "none"
        return "ready" if ready is not None and ready.exists() else "starting"

    def close(self) -> None:
        """End the standby (it holds no job); running runners are untouched."""
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is None:
            return
        with contextlib.suppress(OSError):
            if spare.stdin is not None:
                spare.stdin.close()  # end-of-file: a waiting standby exits by itself
        try:
            spare.wait(timeout=1)
        except subprocess.TimeoutExpired:
            spare.terminate()  # still importing: our own child, no job to lose
            try:
                spare.wait(timeout=5)
            except subprocess.TimeoutExpired:
                spare.kill()  # Ray's signal handlers can swallow SIGTERM while connecting
                with contextlib.suppress(subprocess.TimeoutExpired):
                    spare.wait(timeout=5)

    @staticmethod
    def environment(extra: dict[str, str]) -> dict[str, str]:
        """This process's environment plus ``extra``."""
        return {**os.environ, **extra}
