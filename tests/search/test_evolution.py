"""Evolution: generation shape, elitism, cloning, ages, penalties, failures, convergence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dynas_service.search import (
    Clone,
    Continue,
    Evolution,
    EvolutionConfig,
    Fresh,
    IndividualResult,
    SearchSpace,
    age_penalty,
    fitness,
    tournament_select,
)
from tests.search.drivers import EvolutionDriver, continued_ids, distance

SPACE = SearchSpace.default(dynamic=True, hidden_layers=2)


def result(individual_id: str, value: float, higher: bool = True) -> IndividualResult:
    return IndividualResult(individual_id, value, higher, 1, value)


def test_thesis_defaults() -> None:
    c = EvolutionConfig()
    assert (c.population, c.tournament_size, c.n_parents, c.n_fresh, c.age_limit) == (
        10,
        3,
        5,
        2,
        10,
    )
    assert (c.age_penalty_a, c.age_penalty_b, c.elitism, c.epochs_per_generation) == (
        0.005,
        1.8,
        True,
        1,
    )
    assert c.initial_genome == {"learning_rate": 4e-4, "batch_size": 32, "reg_strength": 1e-3}
    assert c.mutation_sigma == {"learning_rate": 2.5e-5, "batch_size": 4, "reg_strength": 0.5}
    assert (c.age_penalty, c.focus_best) == ("age", 0)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"population": 0}, "population"),
        ({"age_penalty_b": 0.5}, "age_penalty_b"),
        ({"age_penalty": "old"}, "old"),
        ({"mutation_sigma": {"learning_rate": -1.0}}, "learning_rate"),
        ({"populaton": 5}, "populaton"),
    ],
)
def test_invalid_options_raise_naming_them(options: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        EvolutionConfig.from_options(options)


def test_age_penalty_formula() -> None:
    assert age_penalty(10, age_limit=10, a=0.005, b=1.8) == 1.0
    assert age_penalty(0, age_limit=10, a=0.005, b=1.8) == 1.0
    assert age_penalty(11, age_limit=10, a=0.005, b=1.8) == pytest.approx(1.009)
    assert age_penalty(15, age_limit=10, a=0.005, b=1.8) == pytest.approx(1 + 0.005 * 1.8**5)
    assert fitness(0.9, True, 2.0) == pytest.approx(0.45)
    assert fitness(0.3, False, 2.0) == pytest.approx(-0.6)  # a loss grows with the penalty
    assert fitness(-0.4, True, 2.0) == pytest.approx(-0.8)  # negative metrics get worse too
    assert fitness(math.nan, True, 1.0) == -math.inf


def test_first_generation_starts_from_the_initial_genome() -> None:
    decisions = Evolution(SPACE, seed=0).start()
    assert len(decisions) == 2 * 10 + 2
    assert all(isinstance(d, Fresh) and d.epochs == 1 for d in decisions)
    initial = {"learning_rate": 4e-4, "batch_size": 32, "reg_strength": 1e-3}
    assert [d.genome for d in decisions[:10]] == [initial] * 10
    assert [d.genome for d in decisions[20:]] == [initial] * 2
    offspring = [d.genome for d in decisions[10:20]]
    assert all(g != initial and SPACE.clip(g) == g for g in offspring)


def test_population_stays_lambda_plus_elite_and_the_elite_survives() -> None:
    evolution = Evolution(SPACE, seed=1)
    decisions = evolution.start()
    rng = np.random.default_rng(0)
    for _ in range(8):
        values = {d.individual_id: float(rng.random()) for d in decisions}
        fittest = max(values, key=values.__getitem__)  # all ages <= 10: no penalty yet
        decisions = evolution.next_generation({k: result(k, v) for k, v in values.items()})
        survivors = decisions[: 10 + 1]
        assert len(evolution.population_ids) == 11
        assert [d.individual_id for d in survivors] == list(evolution.population_ids)
        assert fittest in continued_ids(decisions)
        assert all(isinstance(d, Continue | Clone) for d in survivors)
        offspring = decisions[11:22]
        assert all(isinstance(d, Clone) for d in offspring)
        assert all(isinstance(d, Fresh) for d in decisions[22:]) and len(decisions) == 24
        assert all(d.source_id in values for d in decisions if isinstance(d, Clone))


def test_without_elitism_the_population_is_lambda() -> None:
    evolution = Evolution(SPACE, EvolutionConfig(elitism=False, population=6), seed=0)
    decisions = evolution.start()
    decisions = evolution.next_generation(
        {d.individual_id: result(d.individual_id, 0.5) for d in decisions}
    )
    assert len(evolution.population_ids) == 6 and len(decisions) == 2 * 6 + 2


def test_duplicate_winners_become_clones_with_the_same_genome() -> None:
    evolution = Evolution(SPACE, EvolutionConfig(tournament_size=30), seed=0)
    decisions = evolution.start()
    star = decisions[5].individual_id
    results = {
        d.individual_id: result(d.individual_id, 1.0 if d.individual_id == star else 0.1)
        for d in decisions
    }
    survivors = evolution.next_generation(results)[:11]
    assert isinstance(survivors[0], Continue) and survivors[0].individual_id == star
    assert all(isinstance(d, Clone) and d.source_id == star for d in survivors[1:])
    assert all(d.genome == decisions[5].genome for d in survivors)
    assert len({d.individual_id for d in survivors}) == 11


def test_age_counts_epochs_and_is_inherited_by_clones() -> None:
    evolution = Evolution(SPACE, EvolutionConfig(epochs_per_generation=2), seed=0)
    decisions = evolution.start()
    for generation in range(1, 4):
        results = {d.individual_id: result(d.individual_id, 0.5) for d in decisions}
        previous = {d.individual_id: evolution.individual(d.individual_id).age for d in decisions}
        decisions = evolution.next_generation(results)
        for d in decisions:
            age = evolution.individual(d.individual_id).age
            if isinstance(d, Continue):
                assert age == previous[d.individual_id] + 2
            elif isinstance(d, Clone):
                assert age == previous[d.source_id] + 2
            else:
                assert age == 0
        assert max(evolution.individual(i).age for i in evolution.population_ids) == 2 * generation


def test_old_individuals_lose_to_young_equals() -> None:
    config = EvolutionConfig(age_limit=1, age_penalty_a=1.0, age_penalty_b=2.0, tournament_size=50)
    evolution = Evolution(SPACE, config, seed=0)
    decisions = evolution.start()
    for _ in range(4):
        decisions = evolution.next_generation(
            {d.individual_id: result(d.individual_id, 0.5) for d in decisions}
        )
    fresh = {d.individual_id for d in decisions if isinstance(d, Fresh)}
    results = {d.individual_id: result(d.individual_id, 0.5) for d in decisions}
    survivors = evolution.next_generation(results)[:11]
    # equal metrics and tournaments over everyone: the penalty alone picks the fresh ones
    assert continued_ids(survivors) and set(continued_ids(survivors)) <= fresh
    assert all(d.source_id in fresh for d in survivors if isinstance(d, Clone))


def test_stagnation_penalty_spares_improving_individuals() -> None:
    config = EvolutionConfig(age_penalty="stagnation", age_limit=2)
    evolution = Evolution(SPACE, config, seed=0)
    decisions = evolution.start()
    climber = decisions[0].individual_id
    for step in range(6):
        values = {d.individual_id: 0.5 for d in decisions}
        values[climber] = 0.6 + 0.01 * step  # the climber improves every generation
        decisions = evolution.next_generation({k: result(k, v) for k, v in values.items()})
        assert climber in continued_ids(decisions)
        stats = evolution.individual(climber)
        assert stats.stagnation == 0 and stats.age == step + 1
        assert evolution.penalty(stats) == 1.0
    plateau = next(d for d in decisions if isinstance(d, Clone) and d.source_id != climber)
    assert evolution.individual(plateau.individual_id).stagnation >= 1


def test_focus_best_trains_the_fittest_further() -> None:
    evolution = Evolution(SPACE, EvolutionConfig(focus_best=3), seed=0)
    decisions = evolution.start()
    star = decisions[3].individual_id
    decisions = evolution.next_generation(
        {
            d.individual_id: result(d.individual_id, 0.9 if d.individual_id == star else 0.2)
            for d in decisions
        }
    )
    epochs = {d.individual_id: d.epochs for d in decisions}
    assert epochs.pop(star) == 4
    assert set(epochs.values()) == {1}


def test_missing_results_are_dropped_and_all_missing_restarts() -> None:
    evolution = Evolution(SPACE, seed=2)
    decisions = evolution.start()
    kept = {d.individual_id: result(d.individual_id, 0.5) for d in decisions[::3]}
    decisions = evolution.next_generation(kept)
    referenced = {d.individual_id for d in decisions if isinstance(d, Continue)}
    referenced |= {d.source_id for d in decisions if isinstance(d, Clone)}
    assert referenced and referenced <= set(kept)
    restarted = evolution.next_generation({})
    assert len(restarted) == 22 and all(isinstance(d, Fresh) for d in restarted)
    assert evolution.best() is not None and evolution.best().value == 0.5  # type: ignore[union-attr]


def test_bad_calls_raise() -> None:
    evolution = Evolution(SPACE, seed=0)
    with pytest.raises(ValueError, match="before start"):
        evolution.next_generation({})
    decisions = evolution.start()
    with pytest.raises(ValueError, match="start"):
        evolution.start()
    with pytest.raises(ValueError, match="ghost"):
        evolution.next_generation({"ghost": result("ghost", 0.1)})
    first = decisions[0].individual_id
    with pytest.raises(ValueError, match="ghost"):
        evolution.next_generation({first: result("ghost", 0.1)})


def test_tournament_select_prefers_the_fit() -> None:
    rng = np.random.default_rng(0)
    winners = tournament_select([0.1, 0.9, 0.5, 0.2], n=400, k=3, rng=rng)
    counts = np.bincount(winners, minlength=4)
    assert counts[0] == 0  # the weakest can never win a tournament of 3 out of 4
    assert counts[1] > counts[2] > counts[3]
    assert tournament_select([0.3], n=3, k=3, rng=rng) == [0, 0, 0]


@pytest.mark.parametrize("higher_is_better", [True, False])
def test_evolution_finds_the_optimum_region(higher_is_better: bool) -> None:
    driver = EvolutionDriver(Evolution(SPACE, seed=0), SPACE, higher_is_better=higher_is_better)
    start = distance(SPACE, EvolutionConfig().initial_genome)
    for _ in range(60):
        driver.step()
    best = driver.evolution.best()
    assert best is not None
    best_genome = driver.genomes[best.individual_id]
    assert start > 0.5
    assert distance(SPACE, best_genome) < 0.1
