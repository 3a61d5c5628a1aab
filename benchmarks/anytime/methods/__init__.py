"""The competing methods by name; each runs one (dataset, seed) within a budget.

A method is a function ``run(ctx: RunContext, log: EpochLog) -> RunInfo`` that starts
``log`` when its clock starts, adds every finished epoch to it and returns when the budget
is spent. Frameworks are imported lazily, so ``--help`` and the report stay cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.anytime.config import BenchConfig

if TYPE_CHECKING:  # kept out of the trial workers' imports (they start faster)
    from benchmarks.anytime.datasets import BenchDataset
    from benchmarks.anytime.records import EpochLog


@dataclass(frozen=True)
class RunContext:
    """One run's inputs: the dataset, the seed, the shared settings, a private work dir."""

    data: BenchDataset
    seed: int
    config: BenchConfig
    work_dir: Path


@dataclass
class RunInfo:
    """What a method reports besides its epochs."""

    n_trials: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


MethodFn = Callable[[RunContext, "EpochLog"], RunInfo]


@dataclass(frozen=True)
class Method:
    """A registered method: ``module:function`` plus the framework it measures."""

    name: str
    framework: str
    target: str
    options: dict[str, Any] = field(default_factory=dict)

    def load(self) -> MethodFn:
        module, function = self.target.split(":")
        fn = getattr(import_module(module), function)
        if not self.options:
            return fn
        return lambda ctx, log: fn(ctx, log, **self.options)


_DYNAS = "benchmarks.anytime.methods.dynas:run_dynas"
_TUNE = "benchmarks.anytime.methods.tune_baselines"
_OPTUNA = "benchmarks.anytime.methods.optuna_tpe:run_optuna_tpe"


def _dynas(algorithm: str, dynamic: bool, **options: Any) -> dict[str, Any]:
    return {"algorithm": algorithm, "dynamic": dynamic, "algorithm_options": options}


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        *(
            Method(f"dynas-{a}", "dynas", _DYNAS, _dynas(a, True))
            for a in ("evolution", "random", "grid", "progressive")
        ),
        *(
            Method(f"dynas-static-{a}", "dynas", _DYNAS, _dynas(a, False))
            for a in ("evolution", "random", "grid", "progressive")
        ),
        Method(
            "dynas-evolution-stagnation",
            "dynas",
            _DYNAS,
            _dynas("evolution", True, age_penalty="stagnation"),
        ),
        Method(
            "dynas-evolution-focus",
            "dynas",
            _DYNAS,
            _dynas("evolution", True, age_penalty="stagnation", focus_best=1),
        ),
        Method(
            "dynas-evolution-stagnation-e10",  # 10 epochs per generation: ~15 % overhead
            "dynas",
            _DYNAS,
            _dynas("evolution", True, age_penalty="stagnation", epochs_per_generation=10),
        ),
        Method(
            "dynas-evolution-lowreg",  # starts at the range's lowest reg, not the thesis' top
            "dynas",
            _DYNAS,
            _dynas("evolution", True, age_penalty="stagnation", initial_genome={
                "learning_rate": 4e-4, "batch_size": 32, "reg_strength": 3.2e-5}),
        ),
        Method("tune-random", "ray-tune", f"{_TUNE}:run_tune_random"),
        Method("tune-asha", "ray-tune", f"{_TUNE}:run_tune_asha"),
        Method("tune-pbt", "ray-tune", f"{_TUNE}:run_tune_pbt"),
        Method("optuna-tpe", "optuna", _OPTUNA),
    ]
}

#: Stock tools: what "dynas' default ahead of every stock configuration" compares against.
STOCK_METHODS = ("tune-random", "tune-asha", "tune-pbt", "optuna-tpe")
DEFAULT_METHODS = ("dynas-evolution", "dynas-random", *STOCK_METHODS)
#: The dynas default (the service's default algorithm on dynamic models).
DYNAS_DEFAULT = "dynas-evolution"


def resolve_methods(spec: str) -> tuple[str, ...]:
    """``default``, ``all``, ``stock``, ``dynas`` or a comma list of method names."""
    groups = {
        "default": DEFAULT_METHODS,
        "all": tuple(METHODS),
        "stock": STOCK_METHODS,
        "dynas": tuple(n for n in METHODS if n.startswith("dynas")),
    }
    names: list[str] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        chosen = groups.get(part, (part,))
        unknown = [n for n in chosen if n not in METHODS]
        if unknown:
            raise ValueError(
                f"unknown method {unknown[0]!r}; choose from {sorted(METHODS)} "
                f"or a group {sorted(groups)}"
            )
        names.extend(n for n in chosen if n not in names)
    if not names:
        raise ValueError(f"no methods in {spec!r}")
    return tuple(names)
