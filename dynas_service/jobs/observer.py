"""`StoreObserver`: the engine's events into the job store, batched off the driver's path.

Events only touch in-memory rows under a lock; a daemon thread writes the changed rows
every ``flush_interval`` seconds. A new best is written at once (it is what users poll).
Database errors are logged and retried at the next flush, never raised into the engine.
"""

from __future__ import annotations

import logging
import threading

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo
from dynas_service.jobs.store import JobStore
from dynas_service.jobs.tables import TrialRow

_log = logging.getLogger(__name__)
LOWER_IS_BETTER = frozenset({"rmse", "loss", "mse", "mae"})


class StoreObserver:
    """A `SearchObserver` that keeps a job's trials, counters, best and trace in the store.

    ``running_limit`` caps how many trials count as running (trials that stop early send
    no event; when more than the cluster can train at once are "running", the least
    recently updated ones count as finished until they report again). Thread-safe.
    """

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        *,
        flush_interval: float = 0.5,
        running_limit: int | None = None,
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be > 0, got {flush_interval=}")
        self._store = store
        self._job_id = job_id
        self._interval = flush_interval
        self._limit = running_limit
        self._lock = threading.Lock()
        self._trials = {t.individual_id: t for t in store.list_trials(job_id)}
        self._dirty: set[str] = set()
        self._epochs = 0
        self._stop = threading.Event()
        self._mark_leftovers()
        self._thread = threading.Thread(target=self._loop, name="store-observer", daemon=True)
        self._thread.start()

    def _mark_leftovers(self) -> None:
        """Trials a previous (dead or stopped) runner left ``running`` are ``stopped``."""
        for trial in self._trials.values():
            if trial.status == "running":
                trial.status = "stopped"
                self._dirty.add(trial.individual_id)

    # SearchObserver ------------------------------------------------------------------
    def on_individual_start(self, info: IndividualInfo) -> None:
        with self._lock:
            for other in self._trials.values():
                same_slot = other.ray_trial_id == info.trial_id
                if (
                    same_slot
                    and other.status == "running"
                    and other.individual_id != info.individual_id
                ):
                    self._set_status(other, "finished")
            trial = self._trials.get(info.individual_id) or self._new_trial(info)
            trial.status = "running"
            trial.ray_trial_id = info.trial_id
            trial.hyperparameters = dict(info.hyperparameters)
            trial.updated_at_s = info.started_at_s
            self._trials[info.individual_id] = trial
            self._dirty.add(info.individual_id)
            self._enforce_limit()

    def on_epoch(self, record: EpochRecord) -> None:
        with self._lock:
            trial = self._trials.get(record.individual_id)
            if trial is None:
                trial = self._new_trial_from_epoch(record)
                self._trials[record.individual_id] = trial
            _apply_epoch(trial, record)
            self._dirty.add(record.individual_id)
            self._epochs += 1
            self._enforce_limit()

    def on_best(self, best: BestRecord) -> None:
        try:
            self._store.record_best(self._job_id, best.to_dict())
        except Exception:
            _log.exception("could not store the best of job %s", self._job_id)
        self.flush()

    def on_finish(self, status: str, error: str | None) -> None:
        if error:
            try:
                self._store.update_job(self._job_id, error=error)
            except Exception:
                _log.exception("could not store the error of job %s", self._job_id)
        final = "finished" if status == "finished" else "stopped"
        with self._lock:
            for trial in self._trials.values():
                if trial.status == "running":
                    self._set_status(trial, final)
        self.close()

    # batching ---------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every changed trial and the epoch count now."""
        with self._lock:
            rows = [_copy(self._trials[i]) for i in self._dirty]
            epochs = self._epochs
            self._dirty.clear()
            self._epochs = 0
        if not rows and not epochs:
            return
        try:
            self._store.save_trials(self._job_id, rows, epochs=epochs)
        except Exception:
            _log.exception("could not store trials of job %s; retrying later", self._job_id)
            with self._lock:
                self._dirty.update(r.individual_id for r in rows)
                self._epochs += epochs

    def close(self) -> None:
        """Stop the flush thread and write what is pending (idempotent)."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)
        self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    # helpers ----------------------------------------------------------------------------
    def _set_status(self, trial: TrialRow, status: str) -> None:
        trial.status = status
        self._dirty.add(trial.individual_id)

    def _enforce_limit(self) -> None:
        if self._limit is None:
            return
        running = [t for t in self._trials.values() if t.status == "running"]
        running.sort(key=lambda t: t.updated_at_s)
        for trial in running[: max(0, len(running) - self._limit)]:
            self._set_status(trial, "finished")

    def _new_trial(self, info: IndividualInfo) -> TrialRow:
        return TrialRow(
            job_id=self._job_id,
            individual_id=info.individual_id,
            ray_trial_id=info.trial_id,
            parent_id=info.parent_id,
            origin=info.origin,
            status="running",
            hyperparameters=dict(info.hyperparameters),
            started_at_s=info.started_at_s,
            updated_at_s=info.started_at_s,
            epochs=0,
            age=0,
        )

    def _new_trial_from_epoch(self, record: EpochRecord) -> TrialRow:
        info = IndividualInfo(record.individual_id, record.trial_id, None, "fresh", {}, record.t)
        return self._new_trial(info)


def _apply_epoch(trial: TrialRow, record: EpochRecord) -> None:
    """Fold one epoch into the trial's row (best kept in the metric's good direction)."""
    trial.status = "running"
    trial.epochs = (trial.epochs or 0) + 1
    trial.age = record.age
    trial.metric = record.metric_name
    trial.last_metric = float(record.value)
    lower = record.metric_name in LOWER_IS_BETTER
    best = trial.best_metric
    if best is None or (record.value < best if lower else record.value > best):
        trial.best_metric = float(record.value)
    trial.layer_sizes = list(record.layer_sizes)
    trial.n_parameters = int(record.n_parameters)
    trial.updated_at_s = record.t


def _copy(trial: TrialRow) -> TrialRow:
    """A detached copy for writing outside the lock."""
    columns = TrialRow.__table__.columns.keys()
    return TrialRow(**{name: getattr(trial, name) for name in columns})
