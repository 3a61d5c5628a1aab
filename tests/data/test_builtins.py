"""Built-in datasets that need no network: digits and puzzle8 (BFS correctness, cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dynas_service.data import (
    BUILTIN_DATASETS,
    BUILTIN_INFO,
    OFFLINE_DATASETS,
    UnknownDatasetError,
    load_builtin,
)
from dynas_service.data.puzzle8 import (
    GOAL,
    N_STATES,
    one_hot_positions,
    permutation_rank,
    solve_all_states,
)


@pytest.fixture(scope="module")
def puzzle() -> tuple[np.ndarray, np.ndarray]:
    return solve_all_states()


def test_digits_shape_and_labels(tmp_path: Path) -> None:
    digits = load_builtin("digits", tmp_path)
    assert digits.X.shape == (1797, 1, 8, 8) and digits.X.dtype == np.float32
    assert digits.y.dtype == np.int64 and set(digits.y.tolist()) == set(range(10))
    assert digits.X.min() == 0.0 and digits.X.max() == 16.0
    assert digits.info.n_features == 64 and digits.info.n_classes == 10


def test_puzzle8_has_every_solvable_state_once(
    puzzle: tuple[np.ndarray, np.ndarray],
) -> None:
    states, moves = puzzle
    assert states.shape == (181_440, 9) == (N_STATES, 9)
    assert len(np.unique(permutation_rank(states))) == N_STATES
    assert np.all(np.sort(states, axis=1) == np.arange(9))
    # Solvable 8-puzzle states (blank ignored) are the even permutations of the tiles.
    tiles = [row[row != 0] for row in states[::997]]
    inversions = [sum(int(a > b) for i, a in enumerate(t) for b in t[i + 1 :]) for t in tiles]
    assert all(count % 2 == 0 for count in inversions)
    assert moves.min() == 0 and moves.max() == 31
    assert np.count_nonzero(moves == 31) == 2


def test_puzzle8_known_distances(puzzle: tuple[np.ndarray, np.ndarray]) -> None:
    states, moves = puzzle
    distance = dict(zip(permutation_rank(states).tolist(), moves.tolist(), strict=True))

    def moves_of(state: list[int]) -> int:
        return distance[int(permutation_rank(np.array([state]))[0])]

    assert moves_of(GOAL.tolist()) == 0
    assert moves_of([1, 2, 3, 4, 5, 6, 7, 0, 8]) == 1
    assert moves_of([1, 2, 3, 4, 5, 0, 7, 8, 6]) == 1
    assert moves_of([1, 2, 3, 4, 0, 6, 7, 5, 8]) == 2
    # A 31-move state from the literature (one of the two hardest).
    assert moves_of([8, 6, 7, 2, 5, 4, 3, 0, 1]) == 31
    # Neighbouring states differ by exactly one move (BFS layering).
    blank_moves = [(7, 8), (5, 8)]
    for cell, goal_cell in blank_moves:
        state = GOAL.copy()
        state[goal_cell], state[cell] = state[cell], 0
        assert moves_of(state.tolist()) == 1


def test_one_hot_positions() -> None:
    x = one_hot_positions(GOAL[None, :])
    assert x.shape == (1, 81) and x.sum() == 9
    # tile 1 on cell 0, the blank (tile 0) on cell 8.
    assert x[0, 9 * 1 + 0] == 1 and x[0, 9 * 0 + 8] == 1 and x[0, 9 * 1 + 1] == 0


def test_puzzle8_dataset_is_cached(tmp_path: Path) -> None:
    dataset = load_builtin("puzzle8", tmp_path)
    cache = tmp_path / "builtin" / "puzzle8.npz"
    assert cache.is_file()
    assert dataset.info == BUILTIN_INFO["puzzle8"] and dataset.info.task == "regression"
    assert dataset.X.shape == (N_STATES, 81) and dataset.y.dtype == np.float32
    assert np.all(dataset.X.sum(axis=1) == 9)
    stamp = cache.stat().st_mtime_ns
    again = load_builtin("puzzle8", tmp_path)
    assert cache.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again.y, dataset.y)
    assert not [p for p in cache.parent.iterdir() if p.name.startswith(".puzzle8-")]


def test_damaged_puzzle8_cache_is_regenerated(tmp_path: Path) -> None:
    cache = tmp_path / "builtin" / "puzzle8.npz"
    cache.parent.mkdir(parents=True)
    np.savez(cache.open("wb"), states=np.zeros((3, 9)), moves=np.zeros(3))
    assert load_builtin("puzzle8", tmp_path).info.n_samples == N_STATES
    with np.load(cache, allow_pickle=False) as archive:
        assert archive["states"].shape == (N_STATES, 9)


def test_unknown_builtin(tmp_path: Path) -> None:
    with pytest.raises(UnknownDatasetError, match="digits, puzzle8, mnist"):
        load_builtin("imagenet", tmp_path)
    assert set(OFFLINE_DATASETS) < set(BUILTIN_DATASETS)
    assert set(BUILTIN_DATASETS) == {"digits", "puzzle8", "mnist", "fashion_mnist", "cifar10",
                                     "svhn"}  # fmt: skip
