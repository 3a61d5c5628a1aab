"""The MLflow side of the observer: turns events into runs, metrics and models.

Used only from the tracking worker thread (not thread-safe). :meth:`MlflowWriter.apply` only
updates memory; :meth:`MlflowWriter.sync` sends what is pending and may raise; a failed sync
keeps what it did not send, so calling it again retries exactly the remainder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo
from dynas_service.tracking import records
from dynas_service.tracking.best import BestModelLog

_RUN_STATUS = {"finished": "FINISHED", "stopped": "KILLED", "failed": "FAILED"}


@dataclass(frozen=True)
class Finish:
    """The job ended with ``status`` (``finished``/``stopped``/``failed``) or was closed."""

    status: str
    error: str | None = None


Event = IndividualInfo | EpochRecord | BestRecord | Finish


@dataclass
class _Child:
    info: IndividualInfo
    run_id: str | None = None
    metrics: list[Metric] = field(default_factory=list)
    open: bool = True
    pending_status: str | None = None  # "FINISHED" to end, "RUNNING" to reopen
    genome_logged: bool = False


@dataclass(frozen=True)
class WriterConfig:
    """What the writer needs to know about the job and how often to log the best model."""

    experiment: str
    job_id: str
    job_name: str
    spec: Mapping[str, Any]
    artifact_location: str | None
    start_ms: int
    model_interval_s: float
    input_example: np.ndarray | None = None


class MlflowWriter:
    """One job's runs in one MLflow tracking store."""

    def __init__(self, client: MlflowClient, config: WriterConfig) -> None:
        self._client = client
        self._cfg = config
        self.experiment_id: str | None = None
        self.parent_run_id: str | None = None
        self._children: dict[str, _Child] = {}
        self._slot_owner: dict[str, str] = {}
        self._parent_metrics: list[Metric] = []
        self._parent_tags: dict[str, str | None] = {}
        self._best = BestModelLog(
            client, config.model_interval_s, config.job_name, config.input_example
        )
        self._best_tags_due = False
        self._finish: Finish | None = None
        self.finished = False

    # ---- memory only -------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        """Record ``event`` in memory (never talks to MLflow, never raises on valid events)."""
        if isinstance(event, IndividualInfo):
            self._start(event)
        elif isinstance(event, EpochRecord):
            child = self._child_for(event)
            child.metrics.extend(records.epoch_metrics(event, self._cfg.start_ms))
        elif isinstance(event, BestRecord):
            self._improve(event)
        elif isinstance(event, Finish) and self._finish is None:
            self._finish = event  # the first end wins (close() after on_finish changes nothing)

    def _start(self, info: IndividualInfo) -> None:
        previous = self._slot_owner.get(info.trial_id)
        if previous is not None and previous != info.individual_id:
            self._set_open(self._children[previous], False)
        self._slot_owner[info.trial_id] = info.individual_id
        child = self._children.get(info.individual_id)
        if child is None:
            self._children[info.individual_id] = _Child(info)
        else:
            self._set_open(child, True)

    def _child_for(self, record: EpochRecord) -> _Child:
        child = self._children.get(record.individual_id)
        if child is None:  # its start event was dropped: create the run with what we know
            origin: Any = "unknown"  # not one of the engine's origins, on purpose
            info = IndividualInfo(record.individual_id, record.trial_id, None, origin, {}, record.t)
            self._start(info)
            child = self._children[record.individual_id]
        return child

    @staticmethod
    def _set_open(child: _Child, is_open: bool) -> None:
        if child.open != is_open:
            child.open = is_open
            child.pending_status = "RUNNING" if is_open else "FINISHED"

    def _improve(self, best: BestRecord) -> None:
        self._best.improve(best)
        self._parent_metrics.extend(records.best_metrics(best, self._cfg.start_ms))
        self._best_tags_due = True  # written at sync, once the best's child run exists

    @property
    def pending(self) -> bool:
        """Whether a :meth:`sync` has something left to send."""
        return (
            self.parent_run_id is None
            or bool(self._parent_metrics or self._parent_tags or self._best_tags_due)
            or any(
                c.run_id is None or c.metrics or c.pending_status or not c.genome_logged
                for c in self._children.values()
            )
            or (self._finish is not None and not self.finished)
        )

    def discard_metrics(self) -> int:
        """Forget unsent metrics (after repeated failures); returns how many."""
        n = len(self._parent_metrics) + sum(len(c.metrics) for c in self._children.values())
        self._parent_metrics.clear()
        for child in self._children.values():
            child.metrics.clear()
        return n

    # ---- talking to MLflow -------------------------------------------------------------
    def sync(self, now: float) -> None:
        """Send everything pending; log the best model when due (``now``: monotonic s)."""
        self.ensure_parent()
        for child in self._children.values():
            self._sync_child(child)
        self._send(self.parent_run_id, self._parent_metrics)
        best = self._best.best
        if self._best_tags_due and best is not None:
            owner = self._children.get(best.individual_id)
            self._parent_tags.update(records.best_tags(best, owner.run_id if owner else None))
            self._best_tags_due = False
        if self._parent_tags:
            self._tags(self.parent_run_id, self._parent_tags)
            self._parent_tags = {}
        finishing = self._finish is not None
        if self._best.due(now, finishing):
            self._best.log(str(self.experiment_id), str(self.parent_run_id), now, finishing)
        if self._finish is not None and not self.finished:
            self._end(self._finish)

    def ensure_parent(self) -> str:
        """Create (once) the experiment and the job's parent run; returns its id."""
        if self.parent_run_id is not None:
            return self.parent_run_id
        cfg = self._cfg
        self.experiment_id = self._experiment_id()
        run = self._client.create_run(
            self.experiment_id,
            start_time=cfg.start_ms,
            tags={
                k: v
                for k, v in records.parent_tags(cfg.job_id, cfg.job_name, cfg.spec).items()
                if v is not None
            },
            run_name=cfg.job_name,
        )
        for chunk in records.chunks(records.params(cfg.spec), 100):
            self._client.log_batch(run.info.run_id, params=chunk)
        self.parent_run_id = run.info.run_id
        return self.parent_run_id

    def _experiment_id(self) -> str:
        name = self._cfg.experiment
        found = self._client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        try:
            return str(self._client.create_experiment(name, self._cfg.artifact_location))
        except MlflowException:  # created concurrently by another job's runner
            found = self._client.get_experiment_by_name(name)
            if found is None:
                raise
            return str(found.experiment_id)

    def _sync_child(self, child: _Child) -> None:
        if child.run_id is None:
            self._create_child(child)
        if not child.genome_logged:
            self._log_genome(str(child.run_id), child.info.hyperparameters)
            child.genome_logged = True
        self._send(child.run_id, child.metrics)
        if child.pending_status is not None:
            self._client.update_run(str(child.run_id), status=child.pending_status)
            child.pending_status = None

    def _create_child(self, child: _Child) -> None:
        info = child.info
        lineage = self._children.get(info.parent_id) if info.parent_id else None
        tags = records.child_tags(
            info, self._cfg.job_id, str(self.parent_run_id), lineage.run_id if lineage else None
        )
        run = self._client.create_run(
            str(self.experiment_id),
            start_time=records.timestamp_ms(self._cfg.start_ms, info.started_at_s),
            tags={k: v for k, v in tags.items() if v is not None},
            run_name=info.individual_id,
        )
        child.run_id = run.info.run_id
        child.pending_status = None if child.open else "FINISHED"

    def _log_genome(self, run_id: str, genome: Mapping[str, Any]) -> None:
        """Params of a new child run; a genome MLflow rejects becomes a tag, not a retry loop."""
        try:
            for chunk in records.chunks(records.params(genome), 100):
                self._client.log_batch(run_id, params=chunk)
        except MlflowException as exc:
            if exc.error_code != "INVALID_PARAMETER_VALUE":
                raise
            self._tags(run_id, {"dynas.genome": json.dumps(dict(genome), default=str)[:5000]})

    def _send(self, run_id: str | None, metrics: list[Metric]) -> None:
        while metrics and run_id is not None:
            batch = metrics[:1000]
            self._client.log_batch(run_id, metrics=batch)
            del metrics[: len(batch)]

    def _tags(self, run_id: str | None, tags: Mapping[str, str | None]) -> None:
        if run_id is not None:
            self._client.log_batch(run_id, tags=records.tags(tags))

    # ---- the end ----------------------------------------------------------------------
    def _end(self, finish: Finish) -> None:
        status = _RUN_STATUS.get(finish.status, "FINISHED")
        self._best.register(str(self.parent_run_id))
        end_ms = int(time.time() * 1000)
        for child in self._children.values():
            if child.run_id is not None and child.open:
                self._client.set_terminated(child.run_id, status, end_ms)
                child.open = False
        final_tags: dict[str, str | None] = {
            records.TAG["status"]: finish.status,
            records.TAG["error"]: finish.error,
        }
        if self._best.best is not None:
            final_tags["dynas.best_hyperparameters"] = json.dumps(
                self._best.best.hyperparameters, default=str
            )
        self._tags(self.parent_run_id, final_tags)
        self._client.set_terminated(str(self.parent_run_id), status, end_ms)
        self.finished = True

    @property
    def registered_version(self) -> str | None:
        """The registry version created at the end, if any."""
        return self._best.registered_version

    @property
    def model_error(self) -> str | None:
        """The last failure logging or registering the best model (``None`` after success)."""
        return self._best.error

    def child_run_ids(self) -> dict[str, str]:
        """Individual id -> child run id, for the runs created so far."""
        items = list(self._children.items())  # one C-level copy: safe against the worker
        return {k: c.run_id for k, c in items if c.run_id is not None}
