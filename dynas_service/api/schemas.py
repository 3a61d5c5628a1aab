"""Response and request bodies of the REST API (the JobSpec itself lives in jobs.spec)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dynas_service.jobs.spec import BudgetSpec

JobStatus = Literal["queued", "running", "stopping", "finished", "stopped", "interrupted", "failed"]


class DatasetOut(BaseModel):
    """A dataset's description (built-in or uploaded)."""

    id: str
    name: str
    task: Literal["classification", "regression"]
    n_samples: int
    n_features: int
    input_shape: list[int]
    n_classes: int | None
    class_names: list[str] | None = None
    builtin: bool = False


class BestSummary(BaseModel):
    """The best model so far; ``value`` never gets worse over a job's life."""

    metric: str
    value: float
    higher_is_better: bool
    trial_id: str
    individual_id: str | None = None
    epoch: int
    found_at_s: float
    hyperparameters: dict[str, Any]
    layer_sizes: list[int]
    parameters: int
    version: int = 0


class TrialCounts(BaseModel):
    """How many trials (individuals) run, have ended, exist."""

    running: int
    finished: int
    total: int


class Job(BaseModel):
    """A search job as the API shows it."""

    id: str
    name: str
    status: JobStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_s: float
    spec: dict[str, Any] = Field(description="The JobSpec as stored, defaults filled in.")
    dataset: DatasetOut | None = None
    trials: TrialCounts
    epochs_trained: int = 0
    best: BestSummary | None
    error: str | None
    mlflow_run_id: str | None
    resumed: int = Field(default=0, description="How often the job was resumed.")


class Trial(BaseModel):
    """One trial/individual; ``parent_trial_id`` names the individual a clone came from."""

    id: str
    trial_id: str
    parent_trial_id: str | None
    origin: str
    status: str
    hyperparameters: dict[str, Any]
    epochs: int
    age: int
    metric: str | None
    last_metric: float | None
    best_metric: float | None
    layer_sizes: list[int] | None
    parameters: int | None
    started_at_s: float


class TracePointOut(BaseModel):
    """The best-so-far value from time ``t`` (seconds since the job started) on."""

    t: float
    value: float
    trial_id: str
    epoch: int


class Trace(BaseModel):
    """The anytime performance trace, monotone in the metric's good direction."""

    metric: str | None
    higher_is_better: bool | None
    points: list[TracePointOut]


class ResumeRequest(BaseModel):
    """Optional body of ``POST /jobs/{id}/resume``."""

    model_config = ConfigDict(extra="forbid")
    budget: BudgetSpec | None = None


class PredictRequest(BaseModel):
    """Raw (unstandardized) inputs: rows of features or nested-list images."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[Any] = Field(min_length=1, description="(N, *input_shape) or (N, n_features)")


class PredictResponse(BaseModel):
    """Class indices (with ``labels`` and ``probabilities``) or regression values."""

    predictions: list[int] | list[float]
    probabilities: list[list[float]] | None = None
    labels: list[str] | None = None
    model_version: int


class Health(BaseModel):
    """``status`` is ``ok`` or ``degraded``; ``ray`` and ``mlflow`` say why."""

    status: Literal["ok", "degraded"]
    ray: dict[str, Any]
    mlflow: dict[str, Any]
    runners: dict[str, Any] = Field(
        default_factory=dict, description="standby: off | none | starting | ready"
    )


def timestamp(value: float | None) -> datetime | None:
    """UNIX seconds -> aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)
