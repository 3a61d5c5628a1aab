"""Test drivers: run any search algorithm against a synthetic objective, as an adapter would.

A driver turns the algorithm's decisions into hashable records (so runs can be compared)
and tracks the best value the *algorithm* reports (evolution) or the trace of what it
found (configuration searches). The objective is a known function of the
hyperparameters with its optimum at ``OPTIMUM`` (relative coordinates of the space).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dynas_service.search import (
    Clone,
    ConfigurationSearch,
    Continue,
    Evolution,
    IndividualResult,
    PerformanceTrace,
    SearchSpace,
    SlotDecision,
)

OPTIMUM = {"learning_rate": 0.2, "batch_size": 0.7, "reg_strength": 0.3}


def relative(space: SearchSpace, params: Mapping[str, Any]) -> dict[str, float]:
    """Relative coordinates in [0, 1] of the numeric parameters of ``params``."""
    return {name: space.params[name].to_relative(v) for name, v in params.items()}  # type: ignore[union-attr]


def distance(space: SearchSpace, params: Mapping[str, Any]) -> float:
    """Euclidean distance to ``OPTIMUM`` in relative coordinates."""
    rel = relative(space, params)
    return math.sqrt(sum((rel[name] - target) ** 2 for name, target in OPTIMUM.items()))


def final_loss(space: SearchSpace, params: Mapping[str, Any]) -> float:
    """The loss a trial converges to: 0.1 + squared distance to the optimum."""
    return 0.1 + distance(space, params) ** 2


def epoch_loss(space: SearchSpace, params: Mapping[str, Any], epoch: int) -> float:
    """Falls towards ``final_loss`` for 5 epochs, then slowly rises (overfitting)."""
    if epoch < 5:
        return final_loss(space, params) + 1.0 / (epoch + 1)
    return final_loss(space, params) + 0.2 + 0.01 * (epoch - 5)


class ConfigDriver:
    """Runs one trial per step: suggest, then observe epochs until the monitor stops."""

    def __init__(self, search: ConfigurationSearch, space: SearchSpace) -> None:
        self.search = search
        self.space = space
        self.trace = PerformanceTrace(higher_is_better=False)
        self.clock = 0.0
        self.exhausted = False

    def step(self) -> tuple[Any, ...] | None:
        suggestion = self.search.suggest()
        if suggestion is None:
            self.exhausted = True
            return None
        monitor = self.search.monitor(suggestion)
        params = dict(suggestion.params)
        verdicts = []
        for epoch in range(10_000):
            loss = epoch_loss(self.space, params, epoch)
            decision = monitor.observe(epoch, loss)
            self.clock += 1.0
            self.trace.record(self.clock, loss)
            verdicts.append((decision.stop, decision.reg_strength))
            if decision.stop:
                break
        return (suggestion.key, tuple(sorted(params.items())), tuple(verdicts))

    def best(self) -> float | None:
        return self.trace.best


def decision_record(d: SlotDecision) -> tuple[Any, ...]:
    source = d.source_id if isinstance(d, Clone) else None
    genome = tuple(sorted(d.genome.items()))
    return (type(d).__name__, d.individual_id, source, genome, d.epochs)


class EvolutionDriver:
    """One generation per step; accuracy-like value ``1 - final_loss`` (higher is better)."""

    def __init__(self, evolution: Evolution, space: SearchSpace, higher_is_better: bool = True):
        self.evolution = evolution
        self.space = space
        self.higher_is_better = higher_is_better
        self.decisions: list[SlotDecision] = []
        self.genomes: dict[str, dict[str, Any]] = {}
        self.exhausted = False

    def value(self, genome: Mapping[str, Any]) -> float:
        loss = final_loss(self.space, genome)
        return 1.0 - loss if self.higher_is_better else loss

    def results(self) -> dict[str, IndividualResult]:
        return {
            d.individual_id: IndividualResult(
                d.individual_id, self.value(d.genome), self.higher_is_better, 1, 0.0
            )
            for d in self.decisions
        }

    def step(self) -> tuple[Any, ...]:
        if not self.decisions:
            self.decisions = self.evolution.start()
        else:
            self.decisions = self.evolution.next_generation(self.results())
        for d in self.decisions:
            self.genomes[d.individual_id] = dict(d.genome)
        return tuple(decision_record(d) for d in self.decisions)

    def best(self) -> float | None:
        best = self.evolution.best()
        return None if best is None else best.value


def continued_ids(decisions: list[SlotDecision]) -> list[str]:
    return [d.individual_id for d in decisions if isinstance(d, Continue)]
