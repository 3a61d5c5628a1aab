"""``dynas watch``: follow a job with a live progress line until it ends."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from dynas_service.cli.output import best_short, duration
from dynas_service.client import DynasClient

TERMINAL_STATUSES = frozenset({"finished", "stopped", "interrupted", "failed"})
BAR_WIDTH = 20


def progress_fraction(job: Mapping[str, Any]) -> float | None:
    """How much of the budget is used, in [0, 1]; ``None`` when the job has no bound.

    With both a time and a trial bound, the one closer to running out counts.
    """
    budget = (job.get("spec") or {}).get("budget") or {}
    fractions = []
    if budget.get("seconds"):
        fractions.append(float(job.get("elapsed_s") or 0.0) / float(budget["seconds"]))
    if budget.get("trials"):
        finished = (job.get("trials") or {}).get("finished", 0)
        fractions.append(float(finished) / float(budget["trials"]))
    if job.get("status") == "finished":
        return 1.0
    return min(max(fractions), 1.0) if fractions else None


def progress_bar(fraction: float | None) -> str:
    """``[#####...............]``; a bar of dots when the job has no bound."""
    if fraction is None:
        return "[" + "." * BAR_WIDTH + "]"
    filled = round(fraction * BAR_WIDTH)
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def progress_line(job: Mapping[str, Any]) -> str:
    """One status line: status, bar, elapsed/budget, trials, best metric, layer sizes."""
    spec = job.get("spec") or {}
    budget = spec.get("budget") or {}
    trials = job.get("trials") or {}
    seconds = budget.get("seconds")
    limit = duration(seconds) if seconds else "no limit"
    trial_budget = f"/{budget['trials']}" if budget.get("trials") else ""
    best = job.get("best")
    parts = [
        f"{job.get('status', '?'):<11}",
        progress_bar(progress_fraction(job)),
        f"{duration(job.get('elapsed_s'))}/{limit}",
        f"trials {trials.get('running', 0)} running,"
        f" {trials.get('finished', 0)}{trial_budget} done",
        f"best {best_short(best)}",
    ]
    if best and best.get("layer_sizes") is not None:
        parts.append(f"layers {best['layer_sizes']}")
    return "  ".join(parts)


class LineWriter:
    """Rewrites one terminal line in place (``\\r``); prints only changes when not a tty."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self._last = ""

    def show(self, line: str) -> None:
        """Display ``line`` (cut to the terminal width on a tty)."""
        if self.interactive:
            width = shutil.get_terminal_size((120, 24)).columns - 1
            line = line[:width]
            self.stream.write("\r" + line.ljust(len(self._last)))
        elif _without_elapsed(line) != _without_elapsed(self._last):
            self.stream.write(line + "\n")
        self.stream.flush()
        self._last = line

    def finish(self) -> None:
        """End the in-place line."""
        if self.interactive and self._last:
            self.stream.write("\n")
            self.stream.flush()


def _without_elapsed(line: str) -> str:
    # In a log file, a new line per poll only because the clock moved would be noise.
    fields = line.split("  ")
    return "  ".join(f for f in fields if not f[:1].isdigit() and not f.startswith("["))


def watch_job(
    client: DynasClient,
    job_id: str,
    *,
    interval: float = 1.0,
    timeout: float | None = None,
    stream: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], bool]:
    """Poll ``GET /jobs/{id}`` until the job ends or ``timeout`` seconds pass.

    Returns the last Job seen and whether it ended. KeyboardInterrupt propagates (the
    caller reports it); the job itself is never touched.
    """
    if interval <= 0:
        raise ValueError(f"interval must be > 0 seconds, got {interval=}")
    writer = LineWriter(stream or sys.stdout)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            job = client.get_job(job_id)
            writer.show(progress_line(job))
            if job.get("status") in TERMINAL_STATUSES:
                return job, True
            if deadline is not None and time.monotonic() >= deadline:
                return job, False
            sleep(interval)
    finally:
        writer.finish()
