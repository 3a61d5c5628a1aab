"""The evolution's generation bookkeeping in the driver, free of Tune's control flow.

A :class:`Generation` holds one config per slot (Tune trial) for the current generation,
counts the epochs each slot reported, and turns the search package's ``SlotDecision`` s into
trial configs. The scheduler and searcher in :mod:`.evolution` drive it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dynas_service.engine.configs import trial_seed
from dynas_service.search import Clone, Continue, IndividualResult, SlotDecision


@dataclass
class Progress:
    """What one individual reported so far (latest and best value, epochs trained)."""

    value: float
    higher_is_better: bool
    age: int
    best: float


@dataclass
class Generation:
    """Configs and progress of the current generation (``number`` counts from 1)."""

    number: int = 0
    plan: dict[str, dict[str, Any]] = field(default_factory=dict)  # trial id -> config
    queue: list[dict[str, Any]] = field(default_factory=list)  # configs waiting for a trial
    epochs_done: dict[str, int] = field(default_factory=dict)  # trial id -> epochs this gen
    started: set[str] = field(default_factory=set)  # trial ids released this generation
    progress: dict[str, Progress] = field(default_factory=dict)  # individual id -> progress
    last_report: dict[str, float] = field(default_factory=dict)  # trial id -> wall time
    seconds_per_epoch: dict[str, float] = field(default_factory=dict)  # individual -> s

    def record(self, trial_id: str, result: dict[str, Any], now: float) -> bool:
        """Count one epoch of ``trial_id``; True once its generation's epochs are done."""
        individual = str(result["individual_id"])
        value, hib = float(result["value"]), bool(result["higher_is_better"])
        old = self.progress.get(individual)
        best = value if old is None or not math.isfinite(old.best) else (
            max(old.best, value) if hib else min(old.best, value))
        self.progress[individual] = Progress(value, hib, int(result["age"]), best)
        self.seconds_per_epoch[individual] = float(result["epoch_seconds"])
        self.epochs_done[trial_id] = self.epochs_done.get(trial_id, 0) + 1
        self.last_report[trial_id] = now
        return self.epochs_done[trial_id] >= int(self.plan[trial_id]["epochs"])

    def complete(self, trial_id: str) -> bool:
        config = self.plan.get(trial_id)
        return config is not None and self.epochs_done.get(trial_id, 0) >= int(config["epochs"])

    def results(self) -> dict[str, IndividualResult]:
        """Results of the individuals whose slot trained all its epochs this generation."""
        out = {}
        for trial_id, config in self.plan.items():
            individual = config["individual_id"]
            progress = self.progress.get(individual)
            if self.complete(trial_id) and progress is not None:
                out[individual] = IndividualResult(individual, progress.value,
                                                   progress.higher_is_better, progress.age,
                                                   progress.best)
        return out

    def expected_seconds(self, trial_id: str) -> float:
        """Expected wall time of a slot this generation (longest first keeps workers busy)."""
        config = self.plan[trial_id]
        key = config["individual_id"] if config["origin"] == "continue" else config.get(
            "parent_id")
        known = list(self.seconds_per_epoch.values())
        default = sorted(known)[len(known) // 2] if known else 1.0
        return float(config["epochs"]) * self.seconds_per_epoch.get(key or "", default)


def decision_config(decision: SlotDecision, previous: dict[str, Any] | None, *,
                    generation: int, source: str | None, seed: int,
                    cpus: float) -> dict[str, Any]:
    """The trial config carrying out one decision (see :mod:`.trainable` for the keys)."""
    if isinstance(decision, Continue):
        origin, parent = "continue", (previous or {}).get("parent_id")
    elif isinstance(decision, Clone):
        origin, parent = "clone", decision.source_id
    else:
        origin, parent = "fresh", None
    return {
        "individual_id": decision.individual_id, "parent_id": parent, "origin": origin,
        "hyperparameters": dict(decision.genome), "source": source,
        "seed": trial_seed(seed, decision.individual_id), "cpus": cpus,
        "epochs": int(decision.epochs), "generation": generation, "monitor": None,
        "report_ahead": True,  # up to the generation's last epoch (see .trainable)
    }
