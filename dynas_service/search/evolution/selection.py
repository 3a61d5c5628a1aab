"""Tournament selection with replacement across tournaments."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def tournament_select(
    fitnesses: Sequence[float], n: int, k: int, rng: np.random.Generator
) -> list[int]:
    """Indices of ``n`` winners; each tournament draws ``min(k, len)`` distinct entrants.

    The fittest entrant wins (ties go to the one drawn first). The same index may win
    several tournaments.
    """
    if not fitnesses:
        raise ValueError("tournament_select needs at least one entrant, got none")
    if n < 0 or k < 1:
        raise ValueError(f"need n >= 0 and k >= 1, got {n=}, {k=}")
    size = min(k, len(fitnesses))
    winners = []
    for _ in range(n):
        entrants = rng.choice(len(fitnesses), size=size, replace=False)
        winners.append(int(max(entrants, key=lambda i: fitnesses[int(i)])))
    return winners
