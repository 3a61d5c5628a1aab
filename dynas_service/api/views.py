"""Job-store rows as API schemas."""

from __future__ import annotations

from typing import Any

from dynas_service.api.schemas import (
    BestSummary,
    DatasetOut,
    Job,
    Trace,
    TracePointOut,
    Trial,
    TrialCounts,
    timestamp,
)
from dynas_service.jobs.store import now
from dynas_service.jobs.tables import JobRow, TracePointRow, TrialRow


def best_summary(best: dict[str, Any] | None) -> BestSummary | None:
    """The public part of a stored `BestRecord` (the server-side model path is left out)."""
    if not best:
        return None
    fields = BestSummary.model_fields.keys()
    return BestSummary(**{k: v for k, v in best.items() if k in fields})


def elapsed(row: JobRow) -> float:
    """Wall seconds the job has run, the current run included."""
    current = now() - row.run_started_at if row.run_started_at else 0.0
    return round(row.elapsed_s + max(0.0, current), 3)


def job_out(row: JobRow) -> Job:
    """The API view of a job row."""
    dataset = DatasetOut(**row.dataset_info) if row.dataset_info else None
    return Job(
        id=row.id,
        name=row.name,
        status=row.status,  # type: ignore[arg-type]
        created_at=timestamp(row.created_at),  # type: ignore[arg-type]
        started_at=timestamp(row.started_at),
        finished_at=timestamp(row.finished_at),
        elapsed_s=elapsed(row),
        spec=row.spec,
        dataset=dataset,
        trials=TrialCounts(
            running=row.trials_running, finished=row.trials_finished, total=row.trials_total
        ),
        epochs_trained=row.epochs_trained,
        best=best_summary(row.best),
        error=row.error,
        mlflow_run_id=row.mlflow_run_id,
        resumed=row.resume_count,
    )


def trial_out(row: TrialRow) -> Trial:
    """The API view of a trial row."""
    return Trial(
        id=row.individual_id,
        trial_id=row.ray_trial_id,
        parent_trial_id=row.parent_id,
        origin=row.origin,
        status=row.status,
        hyperparameters=row.hyperparameters,
        epochs=row.epochs,
        age=row.age,
        metric=row.metric,
        last_metric=row.last_metric,
        best_metric=row.best_metric,
        layer_sizes=row.layer_sizes,
        parameters=row.n_parameters,
        started_at_s=row.started_at_s,
    )


def trace_out(row: JobRow, points: list[TracePointRow]) -> Trace:
    """The job's trace; metric and direction come from its best."""
    best = row.best or {}
    return Trace(
        metric=best.get("metric"),
        higher_is_better=best.get("higher_is_better"),
        points=[
            TracePointOut(t=p.t, value=p.value, trial_id=p.trial_id, epoch=p.epoch) for p in points
        ],
    )
