"""``MlflowObserver``: the engine's events recorded in MLflow from one background thread.

Thread model: the engine calls the ``on_*`` methods in the driver thread; they only append
to a bounded :class:`Outbox` (microseconds, never raise, never block). One daemon worker
thread owns the :class:`MlflowClient` and the :class:`MlflowWriter`: it drains the outbox in
batches, sends them with ``log_batch`` and retries failures with exponential backoff. While
MLflow is slow or down the outbox keeps at most ``max_queue`` events, dropping the oldest
(counted in :meth:`MlflowObserver.health`), so training is never held up.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo
from dynas_service.tracking.outbox import Outbox
from dynas_service.tracking.writer import Event, Finish, MlflowWriter, WriterConfig

_log = logging.getLogger(__name__)

#: MLflow's own HTTP retries would stall the worker for minutes on a dead server; the
#: worker retries by itself, so MLflow gets few, short attempts (user settings win).
_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",  # no phoning home from a training service
}
_DEGRADED_AFTER_DROP_S = 60.0


def default_artifact_location(tracking_uri: str, experiment: str) -> str | None:
    """``<dir of the sqlite file>/mlartifacts/<experiment>`` as a file URI for an embedded
    sqlite store; ``None`` (the server decides, e.g. proxied artifacts) otherwise."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    db = Path(unquote(urlparse(tracking_uri).path))
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in experiment)
    return (db.parent / "mlartifacts" / slug).resolve().as_uri()


class MlflowObserver:
    """A :class:`~dynas_service.events.SearchObserver` that records a job in MLflow.

    One experiment ``experiment`` (default ``dynas``), one parent run for the job, one nested
    child run per individual (see :mod:`dynas_service.tracking.records` for every name).
    The best model is logged at most every ``model_interval_s`` seconds and at the end, and
    registered as ``dynas-<job_name>`` by :meth:`on_finish`. ``input_example``: a few raw
    input rows for the model's signature (default: zeros shaped like the model's input).

    The constructor waits up to ``connect_timeout_s`` for the parent run, so :attr:`run_id`
    is set right away when MLflow is reachable, else ``None`` until it becomes reachable.
    """

    def __init__(
        self,
        tracking_uri: str,
        experiment: str,
        job_id: str,
        job_name: str,
        spec: Mapping[str, Any],
        artifact_location: str | None = None,
        *,
        model_interval_s: float = 30.0,
        max_queue: int = 10_000,
        flush_interval_s: float = 5.0,
        connect_timeout_s: float = 10.0,
        max_attempts: int = 5,
        input_example: np.ndarray | None = None,
    ) -> None:
        if not tracking_uri:
            raise ValueError(f"tracking_uri must be a non-empty URI, got {tracking_uri=}")
        if model_interval_s < 0 or flush_interval_s <= 0 or max_attempts < 1:
            raise ValueError(
                f"bad timing: {model_interval_s=}, {flush_interval_s=}, {max_attempts=}"
            )
        for key, value in _HTTP_DEFAULTS.items():
            os.environ.setdefault(key, value)
        experiment = experiment or "dynas"
        self._uri = tracking_uri
        self._outbox: Outbox[Event] = Outbox(max_queue)
        self._config = WriterConfig(
            experiment=experiment,
            job_id=job_id,
            job_name=job_name or job_id,
            spec=dict(spec),
            artifact_location=artifact_location
            or default_artifact_location(tracking_uri, experiment),
            start_ms=int(time.time() * 1000),
            model_interval_s=model_interval_s,
            input_example=input_example,
        )
        self._flush_interval, self._max_attempts = flush_interval_s, max_attempts
        self._batch_size = max(max_queue, 1000)
        self._writer: MlflowWriter | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._wake = threading.Event()
        self._handled = threading.Condition()
        self._handled_count = 0
        self._lock = threading.Lock()
        self._failures, self._last_drop_at = 0, -float("inf")
        self._last_error: str | None = None
        self._dropped_seen = 0
        self._thread = threading.Thread(target=self._run, name=f"mlflow-{job_id}", daemon=True)
        self._thread.start()
        self._connected.wait(connect_timeout_s)

    # ---- SearchObserver: called by the engine, must return at once ----------------------
    def on_individual_start(self, info: IndividualInfo) -> None:
        self._put(info)

    def on_epoch(self, record: EpochRecord) -> None:
        self._put(record)

    def on_best(self, best: BestRecord) -> None:
        self._put(best)

    def on_finish(self, status: str, error: str | None) -> None:
        self._put(Finish(status, error))
        self._wake.set()

    def _put(self, event: Event) -> None:
        try:
            self._outbox.put(event)
        except Exception:  # never raise into the engine
            _log.exception("could not queue an MLflow event")

    # ---- public state -------------------------------------------------------------------
    @property
    def run_id(self) -> str | None:
        """The job's parent run id once created (``None`` while MLflow is unreachable)."""
        return self._writer.parent_run_id if self._writer else None

    @property
    def experiment_id(self) -> str | None:
        """The experiment id once known."""
        return self._writer.experiment_id if self._writer else None

    @property
    def registered_version(self) -> str | None:
        """The model registry version created at the end, if any."""
        return self._writer.registered_version if self._writer else None

    def child_run_ids(self) -> dict[str, str]:
        """Individual id -> child run id for the runs created so far (a snapshot)."""
        return dict(self._writer.child_run_ids()) if self._writer else {}

    def health(self) -> dict[str, Any]:
        """``{"status": "ok"|"degraded"|"closed", "queue", "dropped", "failures",
        "last_error", "model_error", "run_id"}`` for ``/healthz``; cheap, thread-safe."""
        dropped = self._outbox.dropped
        with self._lock:
            if dropped > self._dropped_seen:
                self._dropped_seen, self._last_drop_at = dropped, time.monotonic()
            recent_drop = time.monotonic() - self._last_drop_at < _DEGRADED_AFTER_DROP_S
            failing, last_error = self._failures > 0, self._last_error
        status = "degraded" if failing or recent_drop or self.run_id is None else "ok"
        if not self._thread.is_alive():
            status = "closed"
        return {
            "status": status,
            "queue": self._outbox.depth,
            "dropped": dropped,
            "failures": self._failures,
            "last_error": last_error,
            "model_error": self._writer.model_error if self._writer else None,
            "run_id": self.run_id,
        }

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every event queued before this call is sent (or dropped); ``False``
        after ``timeout`` s or when the worker has stopped with events unsent."""
        target = self._outbox.puts
        self._wake.set()
        with self._handled:
            return (
                self._handled.wait_for(
                    lambda: self._handled_count >= target or not self._thread.is_alive(), timeout
                )
                and self._handled_count >= target
            )

    def close(self, timeout: float = 30.0) -> bool:
        """Flush and stop the worker (ending the runs as ``stopped`` unless
        :meth:`on_finish` came first). Returns whether it finished within ``timeout`` s;
        after that the daemon thread is abandoned."""
        if self._thread.is_alive():
            self._put(Finish("stopped", "tracking closed before the job finished"))
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # ---- the worker thread --------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._work()
        finally:
            self._connected.set()
            with self._handled:
                self._handled.notify_all()

    def _work(self) -> None:
        try:
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=self._uri, registry_uri=self._uri)
            self._writer = MlflowWriter(client, self._config)
        except Exception as exc:
            self._record_failure(exc)
            return
        if self._attempt(self._writer.ensure_parent):
            _preload_model_logging()
        self._connected.set()
        while not self._writer.finished:
            if self._stop.is_set() and self._failures >= self._max_attempts:
                return  # closing while MLflow is down: give up
            self._cycle(self._writer)

    def _cycle(self, writer: MlflowWriter) -> None:
        """Wait (batching events up), take what is queued, send it; retry with backoff."""
        retrying = writer.pending and self._failures > 0
        delay = self._backoff_delay() if retrying else self._flush_interval
        if not self._stop.is_set():  # closing: no more waiting, just the last attempts
            self._wake.wait(delay)
        self._wake.clear()
        events = self._outbox.take(self._batch_size, timeout=0)
        for event in events:
            writer.apply(event)
        if writer.pending:
            ok = self._attempt(lambda: writer.sync(time.monotonic()))
            if not ok and self._failures >= self._max_attempts:
                self._outbox.count_dropped(writer.discard_metrics())
        if not writer.pending:
            with self._handled:
                self._handled_count = self._outbox.settled
                self._handled.notify_all()

    def _attempt(self, action: Any) -> bool:
        try:
            action()
        except Exception as exc:
            self._record_failure(exc)
            return False
        with self._lock:
            self._failures = 0
        return True

    def _record_failure(self, exc: Exception) -> None:
        with self._lock:
            self._failures += 1
            self._last_error = f"{type(exc).__name__}: {str(exc)[:300]}"
        _log.warning("MLflow tracking failed (%d in a row): %s", self._failures, self._last_error)

    def _backoff_delay(self) -> float:
        return min(30.0, 0.5 * 2 ** min(self._failures - 1, 6))


def _preload_model_logging() -> None:
    """Import (and warm up) what logging a model and drawing the trace need, now, at job
    start: several seconds of imports and font loading that hold the GIL would otherwise
    land in the middle of training, at the first best model."""
    try:
        import mlflow.pyfunc  # noqa: F401
        from mlflow.utils.requirements_utils import warn_dependency_requirement_mismatches

        import dynas_service.nn  # noqa: F401
        from dynas_service.tracking.models import pip_requirements
        from dynas_service.tracking.plot import trace_png

        trace_png([(0.0, 0.0)], "metric", "warm-up", higher_is_better=True)
        # MLflow maps every installed distribution once (seconds) when it checks requirements
        warn_dependency_requirement_mismatches(pip_requirements())
    except Exception:  # logging the model will report the problem
        _log.debug("preloading the model logging imports failed", exc_info=True)
