"""Seed handling shared by every stochastic class of the package."""

from __future__ import annotations

import numpy as np

Seed = int | np.random.Generator


def make_rng(seed: Seed) -> np.random.Generator:
    """A Generator from an int seed, or the given Generator itself (shared, not copied)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an int or a numpy Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed=}")
    return np.random.default_rng(int(seed))
