"""Anytime grid search: exact dyadic levels, no repeats, shuffling, bounded deep levels."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

from dynas_service.search import (
    AnytimeGridSearch,
    CategoricalParam,
    FloatParam,
    IntParam,
    SearchSpace,
)
from dynas_service.search._permutation import LazyPermutation
from dynas_service.search.grid import int_level_values
from tests.search.drivers import ConfigDriver, distance


def dyadic_grid(space: SearchSpace, level: int) -> set[tuple]:
    """The mapped Cartesian product of {i / 2^level} on every axis."""
    axes = [
        [param.from_relative(i / 2**level) for i in range(1, 2**level)]
        for param in space.params.values()
    ]
    return set(itertools.product(*axes))


def take_levels(grid: AnytimeGridSearch, levels: int) -> dict[int, list[tuple]]:
    found: dict[int, list[tuple]] = {}
    while True:
        suggestion = grid.suggest()
        if suggestion is None or grid.level > levels:
            return found
        found.setdefault(grid.level, []).append(tuple(suggestion.params.values()))


def test_levels_are_exactly_the_new_dyadic_points() -> None:
    space = SearchSpace({"x": FloatParam(0.0, 1.0), "y": FloatParam(1.0, 16.0, log=True)})
    found = take_levels(AnytimeGridSearch(space, seed=0), 4)
    assert sorted(found) == [1, 2, 3, 4]
    seen: set[tuple] = set()
    for level, points in found.items():
        expected = dyadic_grid(space, level) - seen
        assert len(points) == len(set(points)) == len(expected) == (2**level - 1) ** 2 - len(seen)
        assert set(points) == expected
        seen |= expected
    assert found[1] == [(0.5, 4.0)]


def test_int_rounding_duplicates_are_skipped_and_finite_spaces_end() -> None:
    space = SearchSpace({"n": IntParam(0, 4), "act": CategoricalParam(("relu", "tanh"))})
    grid = AnytimeGridSearch(space, seed=3)
    points = []
    while (suggestion := grid.suggest()) is not None:
        points.append(tuple(suggestion.params.values()))
        assert len(points) <= 10
    assert sorted(points) == sorted(itertools.product(range(5), ("relu", "tanh")))
    assert grid.suggest() is None
    assert points[:2] in ([(2, "relu"), (2, "tanh")], [(2, "tanh"), (2, "relu")])


def test_int_level_values_match_brute_force() -> None:
    for param in (IntParam(16, 64), IntParam(1, 1000, log=True), IntParam(0, 3)):
        for level in range(1, 9):
            brute = sorted({param.from_relative(i / 2**level) for i in range(1, 2**level)})
            assert list(int_level_values(param, level)) == brute


def test_the_seed_shuffles_a_level_but_not_its_content() -> None:
    space = SearchSpace.default(dynamic=True, hidden_layers=1)
    a = take_levels(AnytimeGridSearch(space, seed=1), 2)[2]
    b = take_levels(AnytimeGridSearch(space, seed=2), 2)[2]
    assert a != b and sorted(a) == sorted(b)


def test_deep_levels_stay_lazy() -> None:
    space = SearchSpace({f"x{i}": FloatParam(0.0, 1.0) for i in range(8)})
    grid = AnytimeGridSearch(space, seed=0)
    for _ in range(3**8):  # levels 1 and 2
        grid.suggest()
    tracemalloc.start()
    third = [grid.suggest() for _ in range(50)]  # level 3 has 7^8 - 3^8 = 5.76M points
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grid.level == 3
    assert peak < 2_000_000
    old = {i / 4 for i in range(1, 4)}
    for suggestion in third:
        assert suggestion is not None
        assert any(v not in old for v in suggestion.params.values())


@pytest.mark.parametrize("n", [1, 2, 3, 5, 17, 64, 100, 257])
def test_lazy_permutation_is_a_bijection(n: int) -> None:
    perm = LazyPermutation(n, np.random.default_rng(n))
    assert sorted(perm[i] for i in range(n)) == list(range(n))


def test_lazy_permutation_handles_huge_ranges() -> None:
    n = 15**40
    perm = LazyPermutation(n, np.random.default_rng(0))
    values = [perm[i] for i in range(100)]
    assert all(0 <= v < n for v in values) and len(set(values)) == 100
    with pytest.raises(IndexError):
        perm[n]


def test_grid_finds_the_optimum_region() -> None:
    space = SearchSpace.default(dynamic=True, hidden_layers=1)
    driver = ConfigDriver(AnytimeGridSearch(space, seed=0, max_epochs=10), space)
    tested = []
    while driver.search.level <= 4:  # type: ignore[attr-defined]
        record = driver.step()
        assert record is not None
        tested.append(dict(record[1]))
    best = min(tested, key=lambda params: distance(space, params))
    assert distance(space, best) < 0.05
    assert driver.best() == pytest.approx(0.1 + distance(space, best) ** 2 + 0.2, abs=1e-9)
