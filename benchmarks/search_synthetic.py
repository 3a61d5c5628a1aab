"""Synthetic-objective comparison of the anytime algorithms (not a test; run as a module).

    python -m benchmarks.search_synthetic [--runs 20] [--budget 2000]

A simulated training: a model trained ``e`` epochs with hyperparameters ``h`` has validation
accuracy ``A(h) * (1 - exp(-e / 8))`` plus noise N(0, 0.005), with
``A(h) = 0.95 - 0.6 * d(h)^2`` and ``d`` the relative distance to an optimum away from the
thesis' initial genome. Clones inherit their source's epochs (weights); time is the total
number of epochs trained by one sequential worker. For each algorithm it prints the mean
expected quality over [0, budget] (area / budget), the expected quality at budget/4 and at
the budget (over ``runs`` seeds) and the trials (or individuals) per run.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dynas_service.search import (
    AnytimeGridSearch,
    Clone,
    ConfigurationSearch,
    Continue,
    Evolution,
    EvolutionConfig,
    IndividualResult,
    PerformanceTrace,
    ProgressiveGrowth,
    RandomSearch,
    SearchSpace,
    area_under_expected_quality,
    expected_quality,
)

SPACE = SearchSpace.default(dynamic=True, hidden_layers=3)
OPTIMUM = {"learning_rate": 0.25, "batch_size": 0.6, "reg_strength": 0.35}


def ceiling(params: Mapping[str, Any]) -> float:
    d2 = sum((SPACE.params[n].to_relative(params[n]) - v) ** 2 for n, v in OPTIMUM.items())  # type: ignore[union-attr]
    return 0.95 - 0.6 * d2


def accuracy(params: Mapping[str, Any], epochs: int, noise: np.random.Generator) -> float:
    return ceiling(params) * (1 - math.exp(-epochs / 8)) + float(noise.normal(0, 0.005))


def run_configuration(
    search: ConfigurationSearch, budget: int, seed: int
) -> tuple[PerformanceTrace, int]:
    noise, trace, clock, decisions = (
        np.random.default_rng(seed + 10_000),
        PerformanceTrace(True),
        0,
        0,
    )
    while clock < budget:
        suggestion = search.suggest()
        if suggestion is None:
            break
        params, monitor, epoch = dict(suggestion.params), search.monitor(suggestion), 0
        decisions += 1
        while clock < budget:
            epoch, clock = epoch + 1, clock + 1
            acc = accuracy(params, epoch, noise)
            trace.record(clock, acc)
            decision = monitor.observe(epoch, 1 - acc)  # monitors read a loss
            if decision.reg_strength is not None:
                params["reg_strength"] = decision.reg_strength
            if decision.stop:
                break
    return trace, decisions


def run_evolution(evolution: Evolution, budget: int, seed: int) -> tuple[PerformanceTrace, int]:
    noise, trace, clock, decisions = (
        np.random.default_rng(seed + 10_000),
        PerformanceTrace(True),
        0,
        0,
    )
    trained: dict[str, int] = {}
    generation = evolution.start()
    while clock < budget:
        results = {}
        before = dict(trained)
        for d in generation:
            start = before.get(d.source_id, 0) if isinstance(d, Clone) else 0
            epochs = before[d.individual_id] if isinstance(d, Continue) else start
            for _ in range(d.epochs):
                epochs, clock = epochs + 1, clock + 1
                acc = accuracy(d.genome, epochs, noise)
                trace.record(clock, acc)
            trained[d.individual_id] = epochs
            results[d.individual_id] = IndividualResult(d.individual_id, acc, True, epochs, acc)
        decisions += len(generation)
        generation = evolution.next_generation(results)
    return trace, decisions


ALGORITHMS: dict[str, Callable[[int, int], tuple[PerformanceTrace, int]]] = {
    "random": lambda s, b: run_configuration(RandomSearch(SPACE, seed=s), b, s),
    "grid": lambda s, b: run_configuration(AnytimeGridSearch(SPACE, seed=s), b, s),
    "progressive": lambda s, b: run_configuration(ProgressiveGrowth(SPACE, seed=s), b, s),
    "evolution": lambda s, b: run_evolution(Evolution(SPACE, seed=s), b, s),
    "evolution+stagnation": lambda s, b: run_evolution(
        Evolution(SPACE, EvolutionConfig(age_penalty="stagnation"), seed=s), b, s
    ),
    "evolution+focus_best=2": lambda s, b: run_evolution(
        Evolution(SPACE, EvolutionConfig(focus_best=2), seed=s), b, s
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--budget", type=int, default=2000)
    args = parser.parse_args()
    header = ("algorithm", "mean EQ [0,B]", "EQ at B/4", "EQ at B", "decisions/run")
    print("{:24s} {:>14s} {:>10s} {:>8s} {:>14s}".format(*header))
    for name, run in ALGORITHMS.items():
        traces, decisions = [], 0
        for seed in range(args.runs):
            trace, n = run(seed, args.budget)
            traces.append(trace)
            decisions += n
        area = area_under_expected_quality(traces, 0, args.budget, initial=0.0) / args.budget
        at = expected_quality(traces, [args.budget / 4, args.budget], initial=0.0)
        print(f"{name:24s} {area:14.4f} {at[0]:10.4f} {at[1]:8.4f} {decisions / args.runs:14.1f}")


if __name__ == "__main__":
    main()
