"""The REST JobSpec: what a user may ask for, validated before anything is stored or started.

Checks that need nothing but the spec live here (pydantic validators, ``extra="forbid"``);
checks that need the dataset or the cluster (cnn on tabular data, unknown dataset, too
many GPUs) live in :mod:`dynas_service.jobs.checks`. Every failure names its field.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from dynas_service.jobs.options import check_algorithm_options

Family = Literal["mlp", "cnn"]
Regularizer = Literal["weighted_l1", "l21", "l1", "none"]
Algorithm = Literal["evolution", "random", "grid", "progressive"]

DEFAULT_RANGES: dict[str, dict[str, Any]] = {
    "learning_rate": {"low": 1e-4, "high": 6e-4},
    "batch_size": {"low": 16, "high": 64, "type": "int"},
    "reg_strength": {"low": 3.2e-5, "high": 1e-3, "log": True},
}
"""The thesis' ranges (method.md, 6.2.2.1); static models add ``units_<i>`` 10..100."""
STATIC_UNITS_RANGE: dict[str, Any] = {"low": 10, "high": 100, "type": "int"}
_UNITS = re.compile(r"^units_(\d+)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RangeSpec(_Strict):
    """A numeric hyperparameter range; ``log`` samples log-uniformly (needs ``low > 0``)."""

    low: float = Field(ge=0)
    high: float = Field(ge=0)
    type: Literal["float", "int"] = "float"
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> RangeSpec:
        if not self.low < self.high:
            raise ValueError(f"low must be smaller than high, got low={self.low} high={self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got low={self.low}")
        return self


class ModelSpec(_Strict):
    """The network family and the dynamic auto-sizing options.

    ``family=None`` means "chosen by the dataset's input shape" (cnn for images, mlp
    otherwise); the service fills it in before storing the job.
    """

    family: Family | None = None
    hidden_layers: int = Field(default=5, ge=1, le=16)
    initial_units: int = Field(default=20, ge=1, le=4096)
    dynamic: bool = True
    regularizer: Regularizer = "weighted_l1"
    dropout: list[float] | None = Field(
        default=None, description="Dropout after each hidden layer (default: the method's)."
    )

    @field_validator("dropout")
    @classmethod
    def _dropout_fits(cls, dropout: list[float] | None, info: ValidationInfo) -> list[float] | None:
        layers = info.data.get("hidden_layers")
        if dropout is None or layers is None:
            return dropout
        if len(dropout) != layers:
            raise ValueError(
                f"dropout needs one value per hidden layer ({layers}), got {len(dropout)}"
            )
        if any(not 0.0 <= p < 1.0 for p in dropout):
            raise ValueError(f"dropout values must be in [0, 1), got {dropout}")
        return dropout


class BudgetSpec(_Strict):
    """When the search ends: after ``seconds`` of wall time and/or ``trials`` trials.

    Omitted entirely: 600 s. Only ``trials`` given: no time bound. Both explicitly
    ``null``: runs until stopped.
    """

    seconds: float | None = Field(default=600.0, gt=0, le=30 * 24 * 3600)
    trials: int | None = Field(default=None, gt=0, le=1_000_000)

    @model_validator(mode="after")
    def _trials_only(self) -> BudgetSpec:
        if "trials" in self.model_fields_set and "seconds" not in self.model_fields_set:
            self.seconds = None
        return self


class ResourcesSpec(_Strict):
    """Ray resources of one trial and the cap on concurrent trials (``None`` = the cluster's)."""

    cpus_per_trial: float = Field(default=1, gt=0, le=1024)
    gpus_per_trial: float = Field(default=0, ge=0, le=64)
    max_concurrent_trials: int | None = Field(default=None, ge=1, le=10_000)


class JobSpec(_Strict):
    """A search job as POSTed to ``/jobs``; only ``dataset`` is required."""

    name: str | None = Field(default=None, max_length=200)
    dataset: str = Field(
        min_length=1,
        max_length=200,
        description="A built-in dataset name or an uploaded dataset id (never a path).",
    )
    sample: float = Field(default=1.0, gt=0, le=1)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)
    model: ModelSpec = Field(default_factory=ModelSpec)
    algorithm: Algorithm = "evolution"
    algorithm_options: dict[str, Any] = Field(default_factory=dict)
    search_space: dict[str, RangeSpec] | None = Field(
        default=None, description="Ranges overriding the method's defaults, by name."
    )
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    seed: int = Field(default=0, ge=0, lt=2**32)

    @field_validator("search_space")
    @classmethod
    def _search_space_names(
        cls, space: dict[str, RangeSpec] | None, info: ValidationInfo
    ) -> dict[str, RangeSpec] | None:
        model = info.data.get("model")
        if space is None or model is None:
            return space
        allowed = allowed_hyperparameters(model)
        for name, bounds in space.items():
            if name not in allowed:
                raise ValueError(f"unknown hyperparameter {name!r}; allowed: {', '.join(allowed)}")
            _check_natural(name, bounds)
        return space

    @field_validator("algorithm_options")
    @classmethod
    def _options_known(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        algorithm = info.data.get("algorithm")
        if algorithm is not None:
            check_algorithm_options(algorithm, options)
        return options

    def display_name(self) -> str:
        """The job's name, defaulting to ``<dataset>-<algorithm>``."""
        return self.name or f"{self.dataset}-{self.algorithm}"


def allowed_hyperparameters(model: ModelSpec) -> list[str]:
    """Names a search space may set for this model (static models add ``units_<i>``)."""
    names = list(DEFAULT_RANGES)
    if not model.dynamic:
        names += [f"units_{i}" for i in range(model.hidden_layers)]
    return names


def resolved_ranges(spec: JobSpec) -> dict[str, RangeSpec]:
    """The full search space: the method's defaults overridden by the spec's ranges."""
    ranges = {name: RangeSpec(**value) for name, value in DEFAULT_RANGES.items()}
    if not spec.model.dynamic:
        for i in range(spec.model.hidden_layers):
            ranges[f"units_{i}"] = RangeSpec(**STATIC_UNITS_RANGE)
    ranges.update(spec.search_space or {})
    return ranges


def _check_natural(name: str, bounds: RangeSpec) -> None:
    """Sizes and batch sizes are whole numbers >= 1; learning rates are > 0."""
    if name == "batch_size" or name.startswith("units_"):
        if bounds.low < 1:
            raise ValueError(f"{name} must be at least 1, got low={bounds.low}")
    elif name == "learning_rate" and bounds.low <= 0:
        raise ValueError(f"learning_rate must be > 0, got low={bounds.low}")


def units_index(name: str) -> int | None:
    """``3`` for ``"units_3"``, ``None`` for other names."""
    match = _UNITS.match(name)
    return int(match.group(1)) if match else None
