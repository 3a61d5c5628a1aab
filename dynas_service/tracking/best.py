"""The parent run's best model: throttled logging, the trace PNG and the final registration.

Used only from the tracking worker thread. Every MLflow failure here is recorded in
:attr:`BestModelLog.error` and never raised: the best model is best effort, the metrics
must go on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from mlflow import MlflowClient
from mlflow.entities import LoggedModel

from dynas_service.events import BestRecord
from dynas_service.tracking.plot import trace_png


class BestModelLog:
    """Logs the current best at most every ``interval_s`` seconds (monotonic clock), once
    more at the end, and registers the last logged one as ``registered_name``."""

    def __init__(
        self,
        client: MlflowClient,
        interval_s: float,
        job_name: str,
        input_example: np.ndarray | None,
    ) -> None:
        self._client = client
        self._interval = interval_s
        self._job_name = job_name
        self._example = input_example
        self._trace: list[tuple[float, float]] = []
        self.best: BestRecord | None = None
        self._dirty = False
        self._last_try = -float("inf")
        self._final_tried = False
        self._model: LoggedModel | None = None
        self._model_best: BestRecord | None = None
        self.registered_version: str | None = None
        self.error: str | None = None

    def improve(self, best: BestRecord) -> None:
        """Remember a new best (memory only)."""
        self.best, self._dirty = best, True
        self._trace.append((best.found_at_s, best.value))

    def due(self, now: float, finishing: bool) -> bool:
        """Whether :meth:`log` should run now."""
        if not self._dirty:
            return False
        if finishing:
            return not self._final_tried
        return now - self._last_try >= self._interval

    def log(self, experiment_id: str, run_id: str, now: float, finishing: bool) -> None:
        """Log the trace PNG and the best model to ``run_id`` (retried after the next
        interval on failure, and once more when finishing)."""
        from dynas_service.tracking.models import log_best_model

        best = self.best
        if best is None:
            return
        self._last_try, self._final_tried = now, finishing
        try:
            self._log_png(run_id, best)
            self._model = log_best_model(self._client, experiment_id, run_id, best, self._example)
        except Exception as exc:  # best effort
            self.error = f"{type(exc).__name__}: {exc}"
            return
        self._model_best, self.error, self._dirty = best, None, False

    def _log_png(self, run_id: str, best: BestRecord) -> None:
        title = f"{self._job_name}: best {best.metric}"
        png = trace_png(self._trace, best.metric, title, best.higher_is_better)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "performance_trace.png"
            path.write_bytes(png)
            self._client.log_artifact(run_id, str(path))

    def register(self, run_id: str) -> None:
        """Register the last logged model as ``dynas-<job name>`` (once)."""
        from dynas_service.tracking.models import register_best, registered_model_name

        if self._model is None or self._model_best is None or self.registered_version:
            return
        try:
            self.registered_version = register_best(
                self._client,
                registered_model_name(self._job_name),
                self._model,
                run_id,
                self._model_best,
            )
        except Exception as exc:  # best effort; the runs must still end
            self.error = f"registering failed: {type(exc).__name__}: {exc}"
