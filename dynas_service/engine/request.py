"""What the engine is asked to do: one search job, as a frozen, validated record."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dynas_service.search import SearchSpace

ALGORITHMS = ("evolution", "random", "grid", "progressive")
FAMILIES = ("mlp", "cnn")
REGULARIZERS = ("weighted_l1", "l21", "l1", "none")


@dataclass(frozen=True)
class ModelOptions:
    """The model family every trial trains (sizes are the start of a dynamic model)."""

    family: str = "mlp"
    hidden_layers: int = 5
    initial_units: int = 20
    dynamic: bool = True
    regularizer: str = "weighted_l1"
    dropout: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family=}")
        if self.regularizer not in REGULARIZERS:
            raise ValueError(f"regularizer must be one of {REGULARIZERS}, got {self.regularizer=}")
        if self.hidden_layers < 1 or self.initial_units < 1:
            raise ValueError(
                f"hidden_layers and initial_units must be >= 1, got "
                f"{self.hidden_layers=}, {self.initial_units=}"
            )


@dataclass(frozen=True)
class SearchRequest:
    """One search job.

    ``budget_seconds`` and ``budget_trials`` bound the whole job, resumed runs included
    (seconds of search time; trials = configurations started for random/grid/progressive,
    individuals created for the evolution); ``None`` means unbounded. ``storage_uri`` is
    Ray Tune's storage for trial checkpoints (default ``<job_dir>/ray``); on a multi-node
    cluster it must be shared by every node (an NFS path or ``s3://...``).
    ``stuck_timeout_s``: how long an evolution slot may stay silent (no epoch reported)
    before its generation goes on without it.
    """

    job_id: str
    algorithm: str
    space: SearchSpace
    dataset: str
    data_dir: Path
    model: ModelOptions = field(default_factory=ModelOptions)
    algorithm_options: dict[str, Any] = field(default_factory=dict)
    validation_fraction: float = 0.2
    sample: float = 1.0
    seed: int = 0
    budget_seconds: float | None = None
    budget_trials: int | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent_trials: int | None = None
    storage_uri: str | None = None
    stuck_timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm=}")
        if not self.job_id or "/" in self.job_id or self.job_id.startswith("."):
            raise ValueError(f"job_id must be a plain non-empty name, got {self.job_id=}")
        if self.budget_seconds is not None and not (
            math.isfinite(self.budget_seconds) and self.budget_seconds > 0
        ):
            raise ValueError(f"budget_seconds must be > 0 or None, got {self.budget_seconds=}")
        if self.budget_trials is not None and self.budget_trials < 1:
            raise ValueError(f"budget_trials must be >= 1 or None, got {self.budget_trials=}")
        if not self.cpus_per_trial > 0 or self.gpus_per_trial < 0:
            raise ValueError(
                f"need cpus_per_trial > 0 and gpus_per_trial >= 0, got "
                f"{self.cpus_per_trial=}, {self.gpus_per_trial=}"
            )
        if not (math.isfinite(self.stuck_timeout_s) and self.stuck_timeout_s > 0):
            raise ValueError(f"stuck_timeout_s must be > 0, got {self.stuck_timeout_s=}")
        if self.max_concurrent_trials is not None and self.max_concurrent_trials < 1:
            raise ValueError(
                f"max_concurrent_trials must be >= 1 or None, got {self.max_concurrent_trials=}"
            )
