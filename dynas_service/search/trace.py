"""Performance trace of one anytime run (thesis 2.1.2): best-so-far quality over time."""

from __future__ import annotations

import bisect
import math


class PerformanceTrace:
    """A right-continuous step function ``K(t)``: the best value recorded at or before ``t``.

    ``higher_is_better`` gives the metric's direction (accuracy True; rmse/loss False).
    ``points`` holds ``(t, best)`` at each improvement, so it is monotone in the metric's
    direction. Times are seconds since the run started and must not decrease. Picklable.
    """

    def __init__(self, higher_is_better: bool) -> None:
        if not isinstance(higher_is_better, bool):
            raise ValueError(f"higher_is_better must be a bool, got {higher_is_better!r}")
        self.higher_is_better = higher_is_better
        self._times: list[float] = []
        self._values: list[float] = []
        self._last_t = -math.inf

    @property
    def points(self) -> list[tuple[float, float]]:
        """``(t, best_so_far)`` at every improvement, in time order."""
        return list(zip(self._times, self._values, strict=True))

    @property
    def best(self) -> float | None:
        """The best value so far, or ``None`` before the first finite value."""
        return self._values[-1] if self._values else None

    def is_better(self, a: float, b: float) -> bool:
        """Whether ``a`` is strictly better than ``b`` in this trace's direction."""
        return a > b if self.higher_is_better else a < b

    def record(self, t: float, value: float) -> bool:
        """Record a result at time ``t``; returns whether it improved the best.

        Non-finite values are ignored (never an improvement). ``t`` must be finite, >= 0
        and not earlier than the previous record.
        """
        if not math.isfinite(t) or t < 0:
            raise ValueError(f"t must be a finite time >= 0, got {t=}")
        if t < self._last_t:
            raise ValueError(f"t must not decrease: got {t=} after {self._last_t}")
        self._last_t = t
        if not math.isfinite(value):
            return False
        if self._values and not self.is_better(value, self._values[-1]):
            return False
        if self._times and self._times[-1] == t:  # same instant: keep one point
            self._values[-1] = float(value)
        else:
            self._times.append(float(t))
            self._values.append(float(value))
        return True

    def value_at(self, t: float) -> float | None:
        """``K(t)``: the best value recorded at time <= ``t``; ``None`` before the first."""
        i = bisect.bisect_right(self._times, t)
        return self._values[i - 1] if i else None

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form: direction and improvement points."""
        return {"higher_is_better": self.higher_is_better, "points": self.points}

    def __repr__(self) -> str:
        return f"PerformanceTrace(higher_is_better={self.higher_is_better}, points={self.points})"
