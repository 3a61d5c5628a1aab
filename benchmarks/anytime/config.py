"""The benchmark's settings: one frozen record shared by every method and run."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The thesis' ranges (6.2.2.1), the same for every framework.
LEARNING_RATE = (1e-4, 6e-4)
BATCH_SIZE = (16, 64)
LAYER_SIZE = (10, 100)
REG_STRENGTH = (10**-4.5, 1e-3)
HIDDEN_LAYERS = 5
VALIDATION_FRACTION = 0.2
#: Times (s) at which quality is tabulated, when they fit the budget.
REPORT_TIMES = (30.0, 60.0, 120.0, 300.0)
STATIC_REGULARIZERS = ("none", "l1")


@dataclass(frozen=True)
class BenchConfig:
    """What one benchmark invocation runs.

    ``budget_s``: wall-clock seconds per run (method x dataset x seed); ``cpus``: the CPUs
    every method may use (one trial per CPU, one torch thread per trial);
    ``max_epochs``: the epoch cap of one stock Tune/Optuna trial (ASHA's ``max_t``);
    ``static_regularizer``: penalty of the static models (``none`` or ``l1``; with l1
    ``reg_strength`` joins the stock search spaces); ``learning_rate``: the (low, high)
    range every method searches, uniform (default the thesis' 1e-4 to 6e-4).
    """

    out_dir: Path
    data_dir: Path
    datasets: tuple[str, ...] = ("digits", "puzzle8", "breast_cancer")
    methods: tuple[str, ...] = ()
    seeds: tuple[int, ...] = (0, 1)
    budget_s: float = 60.0
    cpus: int = 2
    gpus_per_trial: float = 0.0
    max_epochs: int = 50
    puzzle8_sample: float = 0.1
    static_regularizer: str = "none"
    pbt_population: int = 8
    learning_rate: tuple[float, float] = LEARNING_RATE
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.budget_s) and self.budget_s > 0):
            raise ValueError(f"budget_s={self.budget_s} must be a positive number of seconds")
        if self.cpus < 1:
            raise ValueError(f"cpus={self.cpus} must be >= 1")
        if not (self.gpus_per_trial >= 0 and math.isfinite(self.gpus_per_trial)):
            raise ValueError(f"gpus_per_trial={self.gpus_per_trial} must be >= 0")
        if self.max_epochs < 1:
            raise ValueError(f"max_epochs={self.max_epochs} must be >= 1")
        if not 0 < self.puzzle8_sample <= 1:
            raise ValueError(f"puzzle8_sample={self.puzzle8_sample} must lie in (0, 1]")
        if self.static_regularizer not in STATIC_REGULARIZERS:
            raise ValueError(
                f"static_regularizer={self.static_regularizer!r} is not one of "
                f"{STATIC_REGULARIZERS}"
            )
        if self.pbt_population < 2:
            raise ValueError(f"pbt_population={self.pbt_population} must be >= 2")
        low, high = self.learning_rate
        if not (0 < low < high and math.isfinite(high)):
            raise ValueError(
                f"learning_rate={self.learning_rate} must be a (low, high) range, 0 < low < high"
            )
        if not self.seeds:
            raise ValueError("seeds must not be empty")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (paths as strings)."""
        data = asdict(self)
        data["out_dir"], data["data_dir"] = str(self.out_dir), str(self.data_dir)
        return data


def report_times(budget_s: float) -> list[float]:
    """The fixed report times that fit ``budget_s``, plus a quarter, half and all of it."""
    times = {t for t in REPORT_TIMES if t <= budget_s}
    times |= {round(budget_s / 4, 1), round(budget_s / 2, 1), float(budget_s)}
    return sorted(times)
