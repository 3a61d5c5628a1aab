"""Age penalty and penalized fitness (thesis 5.3; reference constants a=0.005, b=1.8)."""

from __future__ import annotations

import math


def age_penalty(age: int, *, age_limit: int, a: float, b: float) -> float:
    """``1 + a * b ** (age - age_limit)`` when ``age > age_limit``, else 1 (never < 1)."""
    if age < 0:
        raise ValueError(f"age must be >= 0, got {age=}")
    if age <= age_limit:
        return 1.0
    try:
        return 1.0 + a * b ** (age - age_limit)
    except OverflowError:
        return math.inf


def fitness(value: float, higher_is_better: bool, penalty: float) -> float:
    """Penalized fitness, oriented so that larger is always fitter.

    With score ``s = value`` (higher is better) or ``s = -value`` (lower is better), the
    fitness is ``s / penalty`` for ``s >= 0`` and ``s * penalty`` otherwise: the penalty
    always pushes towards worse. So accuracy gives ``value / penalty`` and a loss gives
    ``-(value * penalty)``. A non-finite value is the worst fitness, ``-inf``.
    """
    if penalty < 1.0:
        raise ValueError(f"penalty must be >= 1, got {penalty=}")
    if not math.isfinite(value):
        return -math.inf
    score = value if higher_is_better else -value
    if score >= 0:
        return score / penalty
    return score * penalty
