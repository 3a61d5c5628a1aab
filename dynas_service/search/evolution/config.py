"""Every constant of the anytime hyperparameter evolution, with the thesis defaults."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

THESIS_INITIAL_GENOME: dict[str, Any] = {
    "learning_rate": 4e-4,
    "batch_size": 32,
    "reg_strength": 1e-3,
}
# Mutation std per gene, in value units; for a log-scaled parameter in log10 units.
THESIS_MUTATION_SIGMA: dict[str, float] = {
    "learning_rate": 2.5e-5,
    "batch_size": 4.0,
    "reg_strength": 0.5,
}


@dataclass(frozen=True)
class EvolutionConfig:
    """Constants of Algorithms 3 and 4 (thesis 5.3); defaults are the thesis settings.

    - ``population`` (lambda): individuals chosen by tournament each generation; with
      ``elitism`` the previous best joins them, so ``population + 1`` survive.
    - ``tournament_size`` (k), ``n_parents`` (rho, distinct parents averaged per
      offspring), ``n_fresh`` (lambda_new fresh individuals per generation).
    - Age penalty ``1 + age_penalty_a * age_penalty_b ** (x - age_limit)`` when
      ``x > age_limit``, else 1; ``x`` is the age in epochs (``age_penalty="age"``) or, with
      ``age_penalty="stagnation"`` (thesis ch. 7), the epochs since the individual last
      improved its own best value.
    - ``initial_genome``: start values (names absent from the space are ignored; space
      parameters absent here start at the centre of their range). Clipped to the space.
    - ``mutation_sigma``: per-gene std (log10 units for log-scaled parameters); parameters
      absent here use ``default_relative_sigma`` times their range width.
      ``categorical_mutation_rate``: chance that a categorical gene is redrawn.
    - ``epochs_per_generation``: epochs each slot trains per generation; ``focus_best``
      (thesis ch. 7): extra epochs for the fittest individual each generation (0 = off).
    - ``fresh_genome``: fresh individuals start at the initial genome (thesis) or at a
      random point of the space.
    """

    population: int = 10
    tournament_size: int = 3
    n_parents: int = 5
    n_fresh: int = 2
    age_limit: int = 10
    age_penalty_a: float = 0.005
    age_penalty_b: float = 1.8
    age_penalty: Literal["age", "stagnation"] = "age"
    initial_genome: dict[str, Any] = field(default_factory=lambda: dict(THESIS_INITIAL_GENOME))
    mutation_sigma: dict[str, float] = field(default_factory=lambda: dict(THESIS_MUTATION_SIGMA))
    default_relative_sigma: float = 0.1
    categorical_mutation_rate: float = 0.1
    elitism: bool = True
    epochs_per_generation: int = 1
    focus_best: int = 0
    fresh_genome: Literal["initial", "random"] = "initial"

    def __post_init__(self) -> None:
        for name in ("population", "tournament_size", "n_parents", "epochs_per_generation"):
            _check_int(name, getattr(self, name), minimum=1)
        for name in ("n_fresh", "age_limit", "focus_best"):
            _check_int(name, getattr(self, name), minimum=0)
        _check_real("age_penalty_a", self.age_penalty_a, minimum=0.0)
        _check_real("age_penalty_b", self.age_penalty_b, minimum=1.0)
        _check_real("default_relative_sigma", self.default_relative_sigma, minimum=0.0)
        if not 0.0 <= self.categorical_mutation_rate <= 1.0:
            raise ValueError(
                "categorical_mutation_rate must lie in [0, 1], "
                f"got {self.categorical_mutation_rate=}"
            )
        for gene, sigma in self.mutation_sigma.items():
            _check_real(f"mutation_sigma[{gene!r}]", sigma, minimum=0.0)
        if self.age_penalty not in ("age", "stagnation"):
            raise ValueError(f"age_penalty must be 'age' or 'stagnation', got {self.age_penalty!r}")
        if self.fresh_genome not in ("initial", "random"):
            raise ValueError(
                f"fresh_genome must be 'initial' or 'random', got {self.fresh_genome!r}"
            )
        if not isinstance(self.elitism, bool):
            raise ValueError(f"elitism must be a bool, got {self.elitism!r}")
        object.__setattr__(self, "initial_genome", dict(self.initial_genome))
        object.__setattr__(self, "mutation_sigma", dict(self.mutation_sigma))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> EvolutionConfig:
        """Build from user options (e.g. the API's ``algorithm_options``); unknown keys raise."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown evolution options {unknown}; known: {sorted(known)}")
        return cls(**dict(options))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check_int(name: str, value: Any, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def _check_real(name: str, value: Any, *, minimum: float) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value!r}")
