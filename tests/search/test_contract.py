"""One contract suite run against every search algorithm (house rule 5).

Each test builds a fresh instance from a factory; the driver plays the adapter's role
against a synthetic objective.
"""

from __future__ import annotations

import itertools
import math
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from dynas_service.search import (
    AnytimeGridSearch,
    Evolution,
    EvolutionConfig,
    ProgressiveGrowth,
    RandomSearch,
    SearchSpace,
)
from tests.search.drivers import ConfigDriver, EvolutionDriver

SPACE = SearchSpace.default(dynamic=True, hidden_layers=3)
MAX_EPOCHS = 30
STEPS = 12

Driver = ConfigDriver | EvolutionDriver
Factory = Callable[[int], Driver]

FACTORIES: dict[str, Factory] = {
    "random": lambda seed: ConfigDriver(
        RandomSearch(SPACE, seed=seed, max_epochs=MAX_EPOCHS), SPACE
    ),
    "grid": lambda seed: ConfigDriver(
        AnytimeGridSearch(SPACE, seed=seed, max_epochs=MAX_EPOCHS), SPACE
    ),
    "progressive": lambda seed: ConfigDriver(
        ProgressiveGrowth(SPACE, seed=seed, max_epochs=MAX_EPOCHS), SPACE
    ),
    "evolution": lambda seed: EvolutionDriver(Evolution(SPACE, seed=seed), SPACE),
    "evolution-chapter7": lambda seed: EvolutionDriver(
        Evolution(
            SPACE, EvolutionConfig(age_penalty="stagnation", focus_best=2, age_limit=2), seed=seed
        ),
        SPACE,
        higher_is_better=False,
    ),
}


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Factory:
    return FACTORIES[request.param]


def run(driver: Driver, steps: int) -> list[Any]:
    return [driver.step() for _ in range(steps)]


def test_same_seed_gives_same_decisions(factory: Factory) -> None:
    assert run(factory(7), STEPS) == run(factory(7), STEPS)


def test_different_seeds_give_different_decisions(factory: Factory) -> None:
    assert run(factory(1), STEPS) != run(factory(2), STEPS)


def test_pickle_round_trip_mid_run_continues_identically(factory: Factory) -> None:
    driver = factory(3)
    run(driver, STEPS // 2)
    clone = pickle.loads(pickle.dumps(driver))
    assert run(clone, STEPS) == run(driver, STEPS)


def test_best_never_gets_worse(factory: Factory) -> None:
    driver = factory(4)
    higher = getattr(driver, "higher_is_better", False)
    bests = []
    for step in range(STEPS * 2):
        driver.step()
        best = driver.best()
        if best is None:  # the evolution has no results before its second step
            assert step == 0 and isinstance(driver, EvolutionDriver)
            continue
        assert math.isfinite(best)
        bests.append(best if higher else -best)
    assert len(bests) >= STEPS * 2 - 1
    assert all(later >= earlier for earlier, later in itertools.pairwise(bests))


def test_every_point_lies_in_the_space_and_keys_are_unique(factory: Factory) -> None:
    driver = factory(5)
    keys: list[str] = []
    for record in run(driver, STEPS):
        if isinstance(driver, EvolutionDriver):
            for kind, individual_id, _, genome, epochs in record:
                params = dict(genome)
                assert epochs >= 1
                if kind != "Continue":
                    keys.append(individual_id)
                assert SPACE.clip(params) == params
        else:
            key, params_items, _ = record
            params = dict(params_items)
            keys.append(key)
            assert set(params) == set(SPACE.names)
            assert SPACE.clip(params) == params
    assert len(keys) == len(set(keys))


def test_work_per_step_is_bounded(factory: Factory) -> None:
    driver = factory(6)
    for record in run(driver, STEPS):
        if isinstance(driver, EvolutionDriver):
            config = driver.evolution.config
            assert len(record) <= 2 * (config.population + 1) + config.n_fresh
            assert all(
                epochs <= config.epochs_per_generation + config.focus_best for *_, epochs in record
            )
        else:
            verdicts = record[2]
            assert 1 <= len(verdicts) <= MAX_EPOCHS
            assert verdicts[-1][0] is True
            assert not any(stop for stop, _ in verdicts[:-1])


def test_a_monitor_stops_a_forever_improving_trial(factory: Factory) -> None:
    driver = factory(8)
    if isinstance(driver, EvolutionDriver):
        pytest.skip("the evolution trains a fixed number of epochs per generation")
    suggestion = driver.search.suggest()
    assert suggestion is not None
    monitor = driver.search.monitor(suggestion)
    stops = [monitor.observe(e, 1.0 / (e + 1)).stop for e in range(MAX_EPOCHS)]
    assert stops == [False] * (MAX_EPOCHS - 1) + [True]
