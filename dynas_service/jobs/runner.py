"""``python -m dynas_service.jobs.runner <job_id> [--resume]``: run one job's search.

The runner is the Ray Tune driver of its job. It reads the job from the store, composes
the `StoreObserver` with MLflow tracking (when configured and importable), calls
``engine.run_search`` and records the final status (finished / stopped / failed) with the
error text. While it runs, a daemon thread copies the tracker's health and MLflow run id
into the job row every few seconds (``/healthz`` reads them). Settings come from
``DYNAS_*`` variables set by the `JobManager`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import os
import re
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from dynas_service.events import CompositeObserver, SearchObserver
from dynas_service.jobs.convert import to_search_request
from dynas_service.jobs.deferred import DeferredObserver
from dynas_service.jobs.observer import StoreObserver
from dynas_service.jobs.processes import process_token
from dynas_service.jobs.ray_cluster import cluster_resources, gcs_reachable
from dynas_service.jobs.spec import JobSpec
from dynas_service.jobs.store import JobStore, now
from dynas_service.jobs.tables import JobRow
from dynas_service.settings import Settings

_log = logging.getLogger("dynas_service.jobs.runner")
FINAL = ("finished", "stopped", "failed")
JOB_ID = re.compile(r"[0-9a-f]{32}")


def running_limit(spec: JobSpec, ray_address: str | None) -> int | None:
    """How many trials of this job can train at once (for the ``running`` counter)."""
    limits = []
    if spec.resources.max_concurrent_trials is not None:
        limits.append(spec.resources.max_concurrent_trials)
    resources = cluster_resources(ray_address) if ray_address else None
    if resources and resources.get("CPU"):
        limits.append(max(1, math.floor(resources["CPU"] / spec.resources.cpus_per_trial)))
    return min(limits) if limits else None


def tracking_observer(settings: Settings, job: JobRow) -> Any | None:
    """An `MlflowObserver` for the job, or ``None`` (tracking off, missing or broken)."""
    uri = settings.resolved_mlflow_uri()
    if uri is None:
        return None
    try:
        from dynas_service.tracking import MlflowObserver

        return MlflowObserver(uri, settings.mlflow_experiment, job.id, job.name, dict(job.spec))
    except Exception:
        _log.exception("MLflow tracking is unavailable for job %s; continuing without it", job.id)
        return None


class JobRunner:
    """Runs one job once (a first run or a resume) and records how it ended."""

    def __init__(self, settings: Settings, job_id: str, *, resume: bool) -> None:
        self.settings = settings
        self.job_id = job_id
        self.resume = resume
        self.store = JobStore(settings.resolved_database_url())
        self.job_dir = settings.jobs_dir() / job_id
        self.tracker: Any | None = None
        self.observers: list[SearchObserver] = []
        self._done = threading.Event()

    def run(self) -> str:
        """Run to the end; returns the final status written to the store."""
        job = self.store.get_job(self.job_id)
        if job is None:
            raise SystemExit(f"no job {self.job_id!r} in {self.store.url}")
        started = now()
        _log.info("job %s starting%s", self.job_id, " (resume)" if self.resume else "")
        self.store.update_job(self.job_id, only_if_status=("queued",), status="running")
        self.store.update_job(
            self.job_id,
            run_started_at=started,
            runner_pid=os.getpid(),
            runner_token=process_token(os.getpid()),
            started_at=job.started_at or started,
        )
        status, error = "failed", None
        try:
            status = self._search(job)
        except BaseException as exc:  # record every failure, then exit non-zero
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            _log.error("job %s failed:\n%s", self.job_id, traceback.format_exc())
        finally:
            self._finish(status, error, started)
        return status if status in FINAL else "failed"

    def _search(self, job: JobRow) -> str:
        spec = JobSpec.model_validate(job.spec)
        if self.settings.resolved_mlflow_uri() is not None:
            # MLflow takes seconds to start: build it beside the engine, not before it.
            self.observers.append(
                DeferredObserver(
                    lambda: tracking_observer(self.settings, job), on_ready=self._tracker_ready
                )
            )
            threading.Thread(
                target=self._tracking_loop, name="tracking-health", daemon=True
            ).start()
        address = self.settings.ray_address or os.environ.get("RAY_ADDRESS")
        if address and not gcs_reachable(address, timeout=5):
            raise RuntimeError(f"the Ray cluster at {address} does not answer; is it running?")
        self.observers.insert(
            0, StoreObserver(self.store, self.job_id, running_limit=running_limit(spec, address))
        )
        from dynas_service.engine import run_search

        request = to_search_request(
            spec, self.job_id, self.settings.resolved_data_dir(), self.settings.storage_uri
        )
        resume = self.resume and (self.job_dir / "search-state").exists()
        return run_search(request, self.job_dir, CompositeObserver(self.observers), resume=resume)

    def _tracker_ready(self, tracker: Any | None) -> None:
        self.tracker = tracker
        self._report_tracking()

    def _tracking_loop(self, interval: float = 5.0) -> None:
        while not self._done.wait(interval):
            self._report_tracking()

    def _report_tracking(self) -> None:
        if self.tracker is None:
            return
        try:
            health = dict(self.tracker.health()) if self.tracker is not None else None
            run_id = getattr(self.tracker, "run_id", None)
            values: dict[str, Any] = {"tracking_health": health}
            if run_id:
                values["mlflow_run_id"] = run_id
            self.store.update_job(self.job_id, **values)
        except Exception:
            _log.exception("could not record the tracking health of job %s", self.job_id)

    def _finish(self, status: str, error: str | None, started: float) -> None:
        """Close the observers, sync the best from disk and write the final status."""
        self._done.set()
        for observer in self.observers:
            try:
                closer = getattr(observer, "close", None)
                if closer is not None:
                    closer()
            except Exception:
                _log.exception("closing observer %r failed", observer)
        self._report_tracking()
        _sync_best(self.store, self.job_id, self.job_dir)
        job = self.store.get_job(self.job_id)
        elapsed = (job.elapsed_s if job else 0.0) + (now() - started)
        if status == "failed" and error is None:
            error = (job.error if job else None) or "the search failed; see runner.log"
        if status not in FINAL:
            status, error = "failed", error or f"the engine returned an unknown status {status!r}"
        self.store.update_job(
            self.job_id,
            status=status,
            error=error,
            finished_at=now(),
            elapsed_s=elapsed,
            run_started_at=None,
        )
        self.store.close()


def _sync_best(store: JobStore, job_id: str, job_dir: Path) -> None:
    """Store the best the engine wrote to disk, in case its event was lost."""
    try:
        from dynas_service.engine import read_best

        best = read_best(job_dir)
        if best is not None:
            store.record_best(job_id, best.to_dict())
    except Exception:
        _log.exception("could not read the best of job %s from disk", job_id)


def prewarm(settings: Settings) -> None:
    """Import what a run needs (torch, Ray, Tune, scikit-learn, MLflow), join the Ray
    cluster and wait for warm trial workers before a job arrives."""
    try:
        importlib.import_module("sklearn.datasets")  # the digits loader
        importlib.import_module("dynas_service.nn")  # torch
        importlib.import_module("dynas_service.engine.run")  # Ray, Tune
        # Tune's fit imports this for its usage tags, MLflow with it (~0.8 s), even when
        # tracking is off; on the path to the first epoch unless imported here.
        importlib.import_module("ray.air.integrations.mlflow")
        address = os.environ.get("RAY_ADDRESS")
        if address and gcs_reachable(address, timeout=5):
            from dynas_service.engine import warm_workers
            from dynas_service.engine.run import ensure_ray

            ensure_ray()
            if settings.warm_workers:  # the first trials start on warm workers
                warm_workers.warm(settings.warm_workers, timeout_s=20)
        if settings.resolved_mlflow_uri() is not None:
            importlib.import_module("dynas_service.tracking.observer")  # MLflow
    except Exception:
        _log.exception("pre-warming the standby runner failed; the job will import later")


def wait_for_job(settings: Settings, ready_file: Path | None = None) -> tuple[str, bool] | None:
    """Standby mode: pre-warm, then read ``<job_id> [--resume]`` from stdin.

    Returns ``None`` at end-of-file (the API went away). ``ready_file`` exists while the
    standby is warm and waiting. Output then goes to the job's ``runner.log``.
    """
    prewarm(settings)
    if ready_file is not None:
        ready_file.touch()
    line = sys.stdin.readline()
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
    parts = line.split()
    if not parts:
        return None
    job_id = parts[0]
    if not JOB_ID.fullmatch(job_id):
        raise SystemExit(f"not a job id: {job_id!r}")
    log = settings.jobs_dir() / job_id / "runner.log"
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return job_id, "--resume" in parts[1:]


def main(argv: list[str] | None = None) -> int:
    """Entry point; exit code 0 unless the job failed."""
    parser = argparse.ArgumentParser(prog="python -m dynas_service.jobs.runner")
    parser.add_argument("job_id", nargs="?")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--standby", action="store_true", help="pre-warm, then read a job id")
    parser.add_argument("--ready-file", type=Path, help="standby: touched once warm")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    if settings.training_niceness and hasattr(os, "nice"):
        os.nice(settings.training_niceness)  # the Tune driver yields the CPU to the API
    if args.standby:
        assigned = wait_for_job(settings, args.ready_file)
        if assigned is None:
            # The API went away before handing us a job. Skip interpreter shutdown: Ray's
            # atexit hook would wait on a cluster that may be gone too (seen: orphaned
            # standbys that never exited).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        job_id, resume = assigned
    elif args.job_id:
        job_id, resume = args.job_id, args.resume
    else:
        parser.error("a job id or --standby is required")
    status = JobRunner(settings, job_id, resume=resume).run()
    return 1 if status == "failed" else 0


if __name__ == "__main__":
    raise SystemExit(main())
