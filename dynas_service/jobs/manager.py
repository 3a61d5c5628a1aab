"""`JobManager`: submit, stop, resume and delete jobs, each run by its own runner process.

The API process owns one manager. A runner (``python -m dynas_service.jobs.runner``) is
started in its own session so it survives the API; it reports only through the job store
and the job directory. `reconcile` (at start-up and then every few seconds) turns jobs
whose runner is gone into ``interrupted`` and reaps finished children.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from dynas_service.jobs.errors import JobConflictError, JobNotFoundError
from dynas_service.jobs.launcher import RunnerLauncher
from dynas_service.jobs.processes import process_token, runner_alive
from dynas_service.jobs.ray_cluster import LocalRayHead, cluster_resources, gcs_reachable
from dynas_service.jobs.spec import BudgetSpec, JobSpec
from dynas_service.jobs.store import ACTIVE_STATUSES, JobStore, now
from dynas_service.jobs.tables import JobRow
from dynas_service.settings import Settings

_log = logging.getLogger(__name__)


@functools.cache
def local_gpu_count() -> int:
    """CUDA devices of this machine (what ``ray start`` would detect)."""
    import torch

    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


RESUMABLE = ("stopped", "interrupted", "failed", "finished")
QUEUED_GRACE_S = 60.0
"""A queued job without a runner pid for this long was orphaned by a crashed API."""


def continuation_budget(budget: BudgetSpec, row: JobRow) -> dict[str, Any]:
    """A resume budget is what the continuation may spend; the engine counts a job's budget
    over its whole life, so the stored budget is what was spent plus the new one."""
    seconds = None if budget.seconds is None else row.elapsed_s + budget.seconds
    trials = None if budget.trials is None else row.trials_total + budget.trials
    return {"seconds": seconds, "trials": trials}


def settings_env(settings: Settings, ray_address: str | None) -> dict[str, str]:
    """``DYNAS_*`` variables that rebuild ``settings`` in a runner (the token excluded)."""
    env = {
        "DYNAS_DATA_DIR": str(settings.resolved_data_dir()),
        "DYNAS_DATABASE_URL": settings.resolved_database_url(),
        "DYNAS_MLFLOW_EXPERIMENT": settings.mlflow_experiment,
        "DYNAS_MLFLOW_TRACKING_URI": settings.resolved_mlflow_uri() or "",
        "DYNAS_TRAINING_NICENESS": str(settings.training_niceness),
        "DYNAS_WARM_WORKERS": str(settings.warm_workers),
    }
    if settings.storage_uri:
        env["DYNAS_STORAGE_URI"] = settings.storage_uri
    if ray_address:
        env["DYNAS_RAY_ADDRESS"] = ray_address
        env["RAY_ADDRESS"] = ray_address
    return env


class JobManager:
    """Lifecycle of jobs; thread-safe. ``ray_address`` overrides settings (tests inject one)."""

    def __init__(
        self, settings: Settings, store: JobStore, *, ray_address: str | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self._address = ray_address or settings.ray_address or os.environ.get("RAY_ADDRESS")
        self._head = LocalRayHead(
            settings.resolved_data_dir(), settings.ray_num_cpus, settings.training_niceness
        )
        self._children: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None
        self._resources: tuple[float, dict[str, float] | None] = (0.0, None)
        self._launcher = RunnerLauncher(
            self._runner_env, settings.resolved_data_dir() / "logs", standby=settings.standby_runner
        )

    # Ray ------------------------------------------------------------------------------
    def ray_address(self) -> str:
        """The cluster address runners join; starts the embedded head on first call."""
        if self._address:
            return self._address
        return self._head.ensure()

    def known_ray_address(self) -> str | None:
        """The address if known without starting anything."""
        return self._address or self._head.recorded_address()

    def ray_reachable(self) -> bool | None:
        """Whether the cluster's GCS answers; ``None`` when no cluster is known yet."""
        address = self.known_ray_address()
        return None if address is None else gcs_reachable(address)

    def cluster_gpus(self) -> float | None:
        """GPUs of the cluster (asked at most every 30 s); ``None`` when it cannot be told.

        The embedded head has the GPUs of this machine (it is not asked: it demands a token
        that only runners carry).
        """
        if not self._address:  # the embedded head has this machine's GPUs
            return float(local_gpu_count())
        stamp, resources = self._resources
        if resources is None or time.monotonic() - stamp > 30:
            address = self.known_ray_address()
            resources = cluster_resources(address) if address else None
            self._resources = (time.monotonic(), resources)
        return None if resources is None else resources.get("GPU", 0.0)

    def standby_state(self) -> str:
        """The standby runner: ``off``, ``none``, ``starting`` or ``ready``."""
        return self._launcher.standby_state()

    def warm_up(self) -> None:
        """Start (or find) the Ray cluster in the background so the first job starts fast."""

        def _warm() -> None:
            try:
                self.ray_address()
                self.cluster_gpus()
                self._launcher.refill()
            except Exception:
                _log.exception("could not start the embedded Ray head")

        threading.Thread(target=_warm, name="ray-warm-up", daemon=True).start()

    # jobs -------------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        """``<data_dir>/jobs/<job_id>`` (job ids are hex, never paths)."""
        return self.settings.jobs_dir() / job_id

    def get(self, job_id: str) -> JobRow:
        """The job, or `JobNotFoundError`."""
        row = self.store.get_job(job_id)
        if row is None:
            raise JobNotFoundError(f"no job with id {job_id!r}")
        return row

    def submit(self, spec: JobSpec, dataset_info: dict[str, Any]) -> JobRow:
        """Store a resolved spec as a queued job and start its runner."""
        job_id = uuid.uuid4().hex
        self.job_dir(job_id).mkdir(parents=True, exist_ok=True)
        row = JobRow(
            id=job_id,
            name=spec.display_name(),
            dataset=spec.dataset,
            spec=spec.model_dump(mode="json"),
            dataset_info=dataset_info,
            status="queued",
            created_at=now(),
            queued_at=now(),
            elapsed_s=0.0,
            trials_running=0,
            trials_finished=0,
            trials_total=0,
            epochs_trained=0,
            best_version=-1,
            resume_count=0,
        )
        self.store.add_job(row)
        self._spawn(job_id, resume=False)
        return self.get(job_id)

    def stop(self, job_id: str) -> tuple[JobRow, bool]:
        """Ask the runner to stop; returns the job and whether a stop was requested
        (``False``: the job was not running, nothing to do)."""
        row = self.get(job_id)
        if row.status not in ACTIVE_STATUSES:
            return row, False
        (self.job_dir(job_id) / "STOP").write_text("stop requested by the API\n")
        if not self._alive(row):
            self.store.update_job(
                job_id, only_if_status=ACTIVE_STATUSES, status="stopped", finished_at=now()
            )
        else:
            self.store.update_job(job_id, only_if_status=("queued", "running"), status="stopping")
        return self.get(job_id), True

    def resume(self, job_id: str, budget: BudgetSpec | None = None) -> JobRow:
        """Continue a stopped/interrupted/failed/finished job, optionally with a new budget."""
        row = self.get(job_id)
        if row.status not in RESUMABLE:
            raise JobConflictError(
                f"job {job_id} is {row.status}; only a job that is {', '.join(RESUMABLE)} "
                "can be resumed"
            )
        spec = dict(row.spec)
        if budget is not None:
            spec["budget"] = continuation_budget(budget, row)
        (self.job_dir(job_id) / "STOP").unlink(missing_ok=True)
        changed = self.store.update_job(
            job_id,
            only_if_status=RESUMABLE,
            status="queued",
            spec=spec,
            error=None,
            finished_at=None,
            resume_count=row.resume_count + 1,
            runner_pid=None,
            runner_token=None,
            queued_at=now(),
        )
        if not changed:
            raise JobConflictError(f"job {job_id} changed state meanwhile; try again")
        self._spawn(job_id, resume=True)
        return self.get(job_id)

    def delete(self, job_id: str) -> None:
        """Remove a job that is not running (its files included)."""
        row = self.get(job_id)
        if row.status in ACTIVE_STATUSES and self._alive(row):
            raise JobConflictError(
                f"job {job_id} is {row.status}; stop it (POST /jobs/{job_id}/stop) and wait "
                "until it is stopped before deleting it"
            )
        self.store.delete_job(job_id)
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        with self._lock:
            self._children.pop(job_id, None)

    # runners ----------------------------------------------------------------------------
    def _spawn(self, job_id: str, *, resume: bool) -> None:
        try:
            child = self._launcher.launch(job_id, self.job_dir(job_id), resume=resume)
        except Exception as error:
            self.store.update_job(
                job_id, status="failed", error=f"could not start the runner: {error}"
            )
            raise
        with self._lock:
            self._children[job_id] = child
        self.store.update_job(job_id, runner_pid=child.pid, runner_token=process_token(child.pid))

    def _runner_env(self) -> dict[str, str]:
        env = settings_env(self.settings, self.ray_address())
        if not self._address:  # the embedded head: runners and their workers need its token
            env.update(self._head.auth_env())
        return RunnerLauncher.environment(env)

    def _alive(self, row: JobRow) -> bool:
        with self._lock:
            child = self._children.get(row.id)
        return runner_alive(row.runner_pid, row.runner_token, child)

    def reconcile(self) -> list[str]:
        """Mark active jobs whose runner is gone ``interrupted``; returns their ids.

        Also reaps runner children that have exited (no zombies).
        """
        self._reap()
        lost = []
        for row in self.store.jobs_with_status(ACTIVE_STATUSES):
            if self._alive(row):
                continue
            if row.runner_pid is None and now() - row.queued_at < QUEUED_GRACE_S:
                continue
            fresh = self.store.get_job(row.id)
            if fresh is None or fresh.status not in ACTIVE_STATUSES:
                continue  # the runner recorded its end meanwhile
            elapsed = fresh.elapsed_s + (
                now() - fresh.run_started_at if fresh.run_started_at else 0.0
            )
            status = "stopped" if fresh.status == "stopping" else "interrupted"
            if self.store.update_job(
                row.id,
                only_if_status=ACTIVE_STATUSES,
                status=status,
                finished_at=now(),
                elapsed_s=elapsed,
                run_started_at=None,
                error=None if status == "stopped" else "the runner process ended unexpectedly",
            ):
                lost.append(row.id)
        return lost

    def _reap(self) -> None:
        with self._lock:
            ended = [job_id for job_id, child in self._children.items() if child.poll() is not None]
            for job_id in ended:
                del self._children[job_id]

    def start_monitor(self, interval: float = 2.0) -> None:
        """Reconcile now and then every ``interval`` seconds on a daemon thread."""
        self.reconcile()

        def _loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.reconcile()
                except Exception:
                    _log.exception("reconciling jobs failed")

        self._monitor = threading.Thread(target=_loop, name="job-monitor", daemon=True)
        self._monitor.start()

    def close(self) -> None:
        """Stop the monitor thread and the standby; runners keep running (by design).

        The embedded Ray head stays up while a runner needs it and stops with the service
        otherwise, so a Ctrl-C of ``dynas serve`` leaves nothing behind.
        """
        self._stop.set()
        self._launcher.close()
        if self._monitor is not None:
            self._monitor.join(timeout=5)
        if self._address is None and not self._any_runner_alive():
            self._head.stop()

    def _any_runner_alive(self) -> bool:
        return any(self._alive(row) for row in self.store.jobs_with_status(ACTIVE_STATUSES))
