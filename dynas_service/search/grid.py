"""Anytime grid search (thesis 5.2): dyadic levels, each new combination exactly once.

Level l = 1, 2, ... gives every parameter the relative values ``{i / 2^l : i = 1..2^l-1}``
(categoricals: all choices from level 1 on). The level tests the Cartesian product of the
*mapped* values minus every combination tested on earlier levels. Because the per-axis
value sets grow monotonically, "tested earlier" means "every coordinate was already on
the previous level's axis"; so the new points split into disjoint blocks (first new
coordinate at axis j) that are indexed without listing them, and a lazy seeded
permutation shuffles the level. Memory and time per ``suggest()`` stay bounded at any
depth (int axes keep their distinct values, at most ``high - low + 1``; float axes none).
Integer rounding duplicates are skipped because values are compared after mapping.
The search ends (``None``) only when every axis is finite (int/categorical) and fully
covered. Float values are assumed distinct at every level (true until ~2^-50 spacing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dynas_service.search._permutation import LazyPermutation
from dynas_service.search._rng import Seed, make_rng
from dynas_service.search.decisions import Suggestion
from dynas_service.search.monitors import DEFAULT_MAX_EPOCHS, EarlyStoppingMonitor
from dynas_service.search.space import CategoricalParam, FloatParam, IntParam, Param, SearchSpace


@dataclass(frozen=True)
class _Axis:
    """One parameter's values on one level: indices < n_old are old, the rest new."""

    param: Param
    level: int
    old: tuple[Any, ...] | None = None  # listed values (int/categorical); None for floats
    new: tuple[Any, ...] | None = None

    @property
    def n_old(self) -> int:
        return 2 ** (self.level - 1) - 1 if self.old is None else len(self.old)

    @property
    def n_new(self) -> int:
        return 2 ** (self.level - 1) if self.new is None else len(self.new)

    @property
    def size(self) -> int:
        return self.n_old + self.n_new

    def value(self, index: int) -> Any:
        if index < self.n_old:
            if self.old is None:
                return self.param.from_relative((index + 1) / 2 ** (self.level - 1))
            return self.old[index]
        index -= self.n_old
        if self.new is None:
            return self.param.from_relative((2 * index + 1) / 2**self.level)
        return self.new[index]

    @property
    def saturated(self) -> bool:
        """No later level can bring a new value for this axis."""
        if isinstance(self.param, FloatParam):
            return False
        if isinstance(self.param, CategoricalParam):
            return True
        return self.size == self.param.high - self.param.low + 1


def int_level_values(param: IntParam, level: int) -> tuple[int, ...]:
    """Sorted distinct ``param.from_relative(i / 2^level)``, i = 1..2^level-1.

    Jumps between distinct values by binary search, so the cost is
    O(distinct values * level) however deep the level.
    """
    last, denominator = 2**level - 1, 2**level
    values, i = [], 1
    while i <= last:
        value = param.from_relative(i / denominator)
        values.append(value)
        lo, hi = i + 1, last + 1  # smallest j > i with a larger value (hi = none)
        while lo < hi:
            mid = (lo + hi) // 2
            if param.from_relative(mid / denominator) > value:
                hi = mid
            else:
                lo = mid + 1
        i = lo
    return tuple(values)


def make_axis(param: Param, level: int) -> _Axis:
    """The level's axis: float lazily, int/categorical as old/new value tuples."""
    if isinstance(param, FloatParam):
        return _Axis(param, level)
    if isinstance(param, CategoricalParam):
        old = param.choices if level > 1 else ()
        return _Axis(param, level, old, () if level > 1 else param.choices)
    current = int_level_values(param, level)
    previous = set(int_level_values(param, level - 1)) if level > 1 else set()
    old = tuple(v for v in current if v in previous)
    return _Axis(param, level, old, tuple(v for v in current if v not in previous))


class _Level:
    """The new points of one level, addressed by an index in ``range(n_points)``."""

    def __init__(self, axes: list[_Axis]) -> None:
        self.axes = axes
        self.blocks: list[int] = []
        for j, axis in enumerate(axes):
            size = math.prod(a.n_old for a in axes[:j]) * axis.n_new
            self.blocks.append(size * math.prod(a.size for a in axes[j + 1 :]))
        self.n_points = sum(self.blocks)

    def point(self, index: int) -> list[Any]:
        """Decode ``index``: find its block, then a mixed-radix number inside it."""
        j = 0
        while index >= self.blocks[j]:
            index -= self.blocks[j]
            j += 1
        radices = [a.n_old for a in self.axes[:j]] + [self.axes[j].n_new]
        radices += [a.size for a in self.axes[j + 1 :]]
        digits = []
        for radix in reversed(radices):
            index, digit = divmod(index, radix)
            digits.append(digit)
        digits.reverse()
        digits[j] += self.axes[j].n_old
        return [axis.value(d) for axis, d in zip(self.axes, digits, strict=True)]


class AnytimeGridSearch:
    """Unbounded dyadic grid, shuffled within each level by ``seed``.

    Keys are ``grid-l<level>-<position>``. ``level`` is the level the last suggestion came
    from (0 before the first). Each trial uses early stopping (``patience``, ``max_epochs``).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: Seed,
        patience: int = 8,
        max_epochs: int = DEFAULT_MAX_EPOCHS,
    ) -> None:
        EarlyStoppingMonitor(patience, max_epochs)  # validates both
        self.space = space
        self.patience = patience
        self.max_epochs = max_epochs
        self._rng = make_rng(seed)
        self._level = 0
        self._current: _Level | None = None
        self._order: LazyPermutation | None = None
        self._position = 0
        self._exhausted = False

    @property
    def level(self) -> int:
        return self._level

    def suggest(self) -> Suggestion | None:
        """The next untested combination, or ``None`` once a finite space is covered."""
        while not self._has_next():
            if not self._advance_level():
                return None
        assert self._current is not None and self._order is not None  # set by _has_next()
        index = self._order[self._position]
        key = f"grid-l{self._level}-{self._position}"
        self._position += 1
        values = self._current.point(index)
        return Suggestion(key, dict(zip(self.space.names, values, strict=True)))

    def _has_next(self) -> bool:
        if self._current is None or self._order is None:
            return False
        return self._position < self._current.n_points

    def _advance_level(self) -> bool:
        if self._exhausted or (self._current and all(a.saturated for a in self._current.axes)):
            self._exhausted = True
            return False
        self._level += 1
        self._current = _Level([make_axis(p, self._level) for p in self.space.params.values()])
        self._position = 0
        n = self._current.n_points
        self._order = LazyPermutation(n, self._rng) if n else None
        return True

    def monitor(self, suggestion: Suggestion) -> EarlyStoppingMonitor:
        """Early stopping on the validation loss for one trial."""
        return EarlyStoppingMonitor(self.patience, self.max_epochs)
