"""The 8-puzzle: every solvable 3x3 sliding-puzzle state with its optimal solution length.

A state is a length-9 vector ``state[cell] = tile`` (cells row-major, tile 0 = the blank).
The goal is ``1 2 3 / 4 5 6 / 7 8 _``. A breadth-first search from the goal over blank
moves reaches all 9!/2 = 181,440 solvable states; the BFS depth of a state is its optimal
number of moves (0..31), the regression target. Features are one-hot tile positions:
``x[9 * tile + cell] = 1`` when ``tile`` lies on ``cell`` (81 features).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np

from dynas_service.data.dataset import Dataset, DatasetInfo

GOAL = np.array([1, 2, 3, 4, 5, 6, 7, 8, 0], dtype=np.uint8)
N_STATES = math.factorial(9) // 2
N_FEATURES = 81
CACHE_NAME = "puzzle8.npz"

_WEIGHTS = np.array([math.factorial(8 - i) for i in range(9)], dtype=np.int64)
_LATER = np.triu(np.ones((9, 9), dtype=bool), k=1)  # _LATER[i, j]: j comes after i
# Blank moves as (cell offset, allowed-from mask over the blank's cell).
_MOVES = tuple(
    (offset, np.array([ok(cell) for cell in range(9)]))
    for offset, ok in (
        (-3, lambda c: c >= 3),
        (3, lambda c: c < 6),
        (-1, lambda c: c % 3 != 0),
        (1, lambda c: c % 3 != 2),
    )
)


def permutation_rank(states: np.ndarray) -> np.ndarray:
    """Lexicographic rank (0..9!-1) of each row of ``states`` (M, 9), via its Lehmer code."""
    smaller_later = (states[:, None, :] < states[:, :, None]) & _LATER
    return smaller_later.sum(axis=2).astype(np.int64) @ _WEIGHTS


def solve_all_states() -> tuple[np.ndarray, np.ndarray]:
    """BFS from `GOAL`: ``(states (181440, 9) uint8, moves (181440,) uint8)`` by depth."""
    depth = np.full(math.factorial(9), -1, dtype=np.int16)
    frontier = GOAL[None, :].copy()
    depth[permutation_rank(frontier)] = 0
    levels, moves_per_level = [frontier], [np.zeros(1, dtype=np.uint8)]
    level = 0
    while len(frontier):
        level += 1
        candidates = _neighbours(frontier)
        ranks = permutation_rank(candidates)
        fresh = depth[ranks] < 0
        ranks, first = np.unique(ranks[fresh], return_index=True)
        frontier = candidates[fresh][first]
        depth[ranks] = level
        if len(frontier):
            levels.append(frontier)
            moves_per_level.append(np.full(len(frontier), level, dtype=np.uint8))
    return np.concatenate(levels), np.concatenate(moves_per_level)


def _neighbours(states: np.ndarray) -> np.ndarray:
    """All states one blank move away from each row of ``states`` (duplicates included)."""
    blank = np.argmax(states == 0, axis=1)
    out = []
    for offset, allowed in _MOVES:
        rows = np.flatnonzero(allowed[blank])
        moved = states[rows].copy()
        source, target = blank[rows], blank[rows] + offset
        index = np.arange(len(rows))
        moved[index, source] = moved[index, target]
        moved[index, target] = 0
        out.append(moved)
    return np.concatenate(out)


def one_hot_positions(states: np.ndarray) -> np.ndarray:
    """``(M, 81)`` float32 with ``x[m, 9 * tile + cell] = 1`` where ``states[m, cell] = tile``."""
    features = np.zeros((len(states), N_FEATURES), dtype=np.float32)
    cells = np.arange(9)
    features[np.arange(len(states))[:, None], 9 * states.astype(np.int64) + cells] = 1.0
    return features


def cached_states(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """`solve_all_states`, cached in ``<data_dir>/builtin/puzzle8.npz`` (written atomically).

    A missing or malformed cache is (re)generated; safe for concurrent callers (each writes
    its own temporary file and `os.replace` publishes it).
    """
    path = Path(data_dir) / "builtin" / CACHE_NAME
    cached = _read_cache(path)
    if cached is not None:
        return cached
    states, moves = solve_all_states()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".puzzle8-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, states=states, moves=moves)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return states, moves


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            states, moves = archive["states"], archive["moves"]
    except (OSError, ValueError, KeyError):
        return None
    if states.shape != (N_STATES, 9) or moves.shape != (N_STATES,):
        return None
    return states.astype(np.uint8), moves.astype(np.uint8)


def load_puzzle8(data_dir: Path) -> Dataset:
    """The built-in ``puzzle8`` regression dataset (81 one-hot features, moves as float32)."""
    states, moves = cached_states(data_dir)
    info = DatasetInfo(
        id="puzzle8",
        name="puzzle8",
        task="regression",
        n_samples=len(states),
        n_features=N_FEATURES,
        input_shape=(N_FEATURES,),
        n_classes=None,
    )
    return Dataset(info=info, X=one_hot_positions(states), y=moves.astype(np.float32))
