"""Typed hyperparameter domains and the search space they form.

A parameter maps a *relative* value ``v`` in [0, 1] to a concrete value: linearly between
``low`` and ``high``, or log-linearly (``low * (high / low) ** v``) for a log-scaled one.
Integer parameters round the mapped value (half up). Sampling draws ``v`` uniformly from
an injected ``numpy.random.Generator``, so a log-scaled float is log-uniform.

Every constructor validates its arguments and raises ``ValueError`` naming the bad value.
All classes are immutable and picklable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

THESIS_LEARNING_RATE = (1e-4, 6e-4)
THESIS_BATCH_SIZE = (16, 64)
THESIS_REG_STRENGTH = (10**-4.5, 1e-3)
THESIS_LAYER_SIZE = (10, 100)


def _check_relative(v: float) -> float:
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"relative value must lie in [0, 1], got {v=}")
    return float(v)


def _map_relative(low: float, high: float, log: bool, v: float) -> float:
    """``v`` in [0, 1] to [low, high], linearly or log-linearly; endpoints exact."""
    if v in (0.0, 1.0):  # exact endpoints despite rounding in exp/log
        return float(high if v else low)
    if log:
        value = math.exp(math.log(low) + v * (math.log(high) - math.log(low)))
    else:
        value = low + v * (high - low)
    return min(max(value, low), high)


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


@dataclass(frozen=True)
class FloatParam:
    """A real number in ``[low, high]``; ``log=True`` makes sampling log-uniform."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        _check_bounds(self.low, self.high, self.log)
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    def from_relative(self, v: float) -> float:
        """The value at relative position ``v`` in [0, 1] (linear or log-linear)."""
        return _map_relative(self.low, self.high, self.log, _check_relative(v))

    def to_relative(self, value: float) -> float:
        """Inverse of :meth:`from_relative`, clipped to [0, 1]."""
        value = min(max(float(value), self.low), self.high)
        if self.log:
            span = math.log(self.high) - math.log(self.low)
            rel = (math.log(value) - math.log(self.low)) / span
        else:
            rel = (value - self.low) / (self.high - self.low)
        return min(max(rel, 0.0), 1.0)

    def sample(self, rng: np.random.Generator) -> float:
        """A uniform (or log-uniform) draw."""
        return self.from_relative(float(rng.random()))

    def clip(self, value: Any) -> float:
        """``value`` as a float inside the bounds."""
        return min(max(_as_number(value), float(self.low)), float(self.high))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class IntParam:
    """An integer in ``[low, high]`` (both inclusive); values are rounded half up."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        for name, bound in (("low", self.low), ("high", self.high)):
            if isinstance(bound, bool) or not float(bound).is_integer():
                raise ValueError(f"IntParam {name} must be an integer, got {bound!r}")
        _check_bounds(self.low, self.high, self.log)
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))

    def from_relative(self, v: float) -> int:
        """The rounded value at relative position ``v`` in [0, 1]."""
        return self.clip(_map_relative(self.low, self.high, self.log, _check_relative(v)))

    def to_relative(self, value: float) -> float:
        """Inverse of :meth:`from_relative` (before rounding), clipped to [0, 1]."""
        return FloatParam(self.low, self.high, self.log).to_relative(value)

    def sample(self, rng: np.random.Generator) -> int:
        """Uniform over the integers, or log-uniform then rounded when ``log``."""
        if self.log:
            return self.from_relative(float(rng.random()))
        return int(rng.integers(self.low, self.high + 1))

    def clip(self, value: Any) -> int:
        """``value`` rounded half up and clipped into ``[low, high]``."""
        return min(max(_round_half_up(_as_number(value)), self.low), self.high)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class CategoricalParam:
    """One of a fixed tuple of JSON-safe choices; relative ``v`` picks ``floor(v * n)``."""

    choices: tuple[Any, ...]

    def __post_init__(self) -> None:
        if isinstance(self.choices, str | bytes) or not isinstance(self.choices, Sequence):
            raise ValueError(f"choices must be a sequence, got {self.choices!r}")
        choices = tuple(self.choices)
        if not choices:
            raise ValueError(f"choices must not be empty, got {self.choices!r}")
        if len(set(map(repr, choices))) != len(choices):
            raise ValueError(f"choices must be distinct, got {choices!r}")
        object.__setattr__(self, "choices", choices)

    def from_relative(self, v: float) -> Any:
        v = _check_relative(v)
        return self.choices[min(int(v * len(self.choices)), len(self.choices) - 1)]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.choices[int(rng.integers(len(self.choices)))]

    def clip(self, value: Any) -> Any:
        """``value`` itself; raises ``ValueError`` if it is not one of the choices."""
        if value not in self.choices:
            raise ValueError(f"{value=} is not one of the choices {self.choices!r}")
        return value

    def to_dict(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices)}


Param = FloatParam | IntParam | CategoricalParam


def _as_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"expected a number, got {value=}")
    if not math.isfinite(float(value)):
        raise ValueError(f"expected a finite number, got {value=}")
    return float(value)


def _check_bounds(low: float, high: float, log: bool) -> None:
    _as_number(low)
    _as_number(high)
    if not low < high:
        raise ValueError(f"low must be < high, got {low=}, {high=}")
    if log and low <= 0:
        raise ValueError(f"a log-scaled parameter needs low > 0, got {low=}")


class SearchSpace:
    """Named parameters; dict order is the canonical order of the space.

    ``params`` maps hyperparameter names (``learning_rate``, ``batch_size``,
    ``reg_strength``, ``units_0`` ...) to domains. Immutable by convention.
    """

    def __init__(self, params: Mapping[str, Param]) -> None:
        if not params:
            raise ValueError(f"a search space needs at least one parameter, got {params!r}")
        for name, param in params.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"parameter names must be non-empty strings, got {name!r}")
            if not isinstance(param, FloatParam | IntParam | CategoricalParam):
                raise ValueError(f"parameter {name!r} has an unknown domain {param!r}")
        self.params: dict[str, Param] = dict(params)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.params)

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One independent draw per parameter, in the space's order."""
        return {name: param.sample(rng) for name, param in self.params.items()}

    def from_relative(self, relative: Mapping[str, float]) -> dict[str, Any]:
        """Map relative values in [0, 1] to values; names must belong to the space."""
        self._check_names(relative)
        return {name: self.params[name].from_relative(v) for name, v in relative.items()}

    def clip(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Clip (and round ints) every given value into its domain."""
        self._check_names(values)
        return {name: self.params[name].clip(v) for name, v in values.items()}

    def _check_names(self, values: Mapping[str, Any]) -> None:
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            known = list(self.params)
            raise ValueError(f"unknown parameter names {unknown}; the space has {known}")

    @classmethod
    def default(cls, dynamic: bool, hidden_layers: int) -> SearchSpace:
        """The thesis ranges (6.2.2.1); static models add ``units_0..units_{L-1}``."""
        if isinstance(hidden_layers, bool) or not isinstance(hidden_layers, int):
            raise ValueError(f"hidden_layers must be an int >= 0, got {hidden_layers=}")
        if hidden_layers < 0:
            raise ValueError(f"hidden_layers must be an int >= 0, got {hidden_layers=}")
        params: dict[str, Param] = {
            "learning_rate": FloatParam(*THESIS_LEARNING_RATE),
            "batch_size": IntParam(*THESIS_BATCH_SIZE),
            "reg_strength": FloatParam(*THESIS_REG_STRENGTH, log=True),
        }
        if not dynamic:
            for i in range(hidden_layers):
                params[f"units_{i}"] = IntParam(*THESIS_LAYER_SIZE)
        return cls(params)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Mapping[str, Any]]) -> SearchSpace:
        """Build from the API shape ``{name: {"low", "high", "log"?, "type"?} | {"choices"}}``."""
        if not isinstance(spec, Mapping):
            raise ValueError(f"a search space must be a mapping, got {spec!r}")
        return cls({name: param_from_dict(name, entry) for name, entry in spec.items()})

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-safe inverse of :meth:`from_dict`."""
        return {name: param.to_dict() for name, param in self.params.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.params == other.params

    def __repr__(self) -> str:
        return f"SearchSpace({self.params!r})"


def param_from_dict(name: str, entry: Mapping[str, Any]) -> Param:
    """One domain from its JSON form; raises ``ValueError`` naming ``name`` when invalid."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"parameter {name!r} must be a mapping, got {entry!r}")
    entry = {key: value for key, value in entry.items() if value is not None}  # None = unset
    kind = entry.get("type", "categorical" if "choices" in entry else "float")
    allowed = {"categorical": {"type", "choices"}}.get(kind, {"type", "low", "high", "log"})
    extra = sorted(set(entry) - allowed)
    if extra:
        raise ValueError(f"parameter {name!r} has unknown keys {extra} for type {kind!r}")
    try:
        if kind == "categorical":
            return CategoricalParam(tuple(entry["choices"]))
        if kind not in ("float", "int"):
            raise ValueError(f"unknown type {kind!r} (float, int or categorical)")
        log = entry.get("log", False)
        if not isinstance(log, bool):
            raise ValueError(f"log must be true or false, got {log!r}")
        cls = FloatParam if kind == "float" else IntParam
        return cls(entry["low"], entry["high"], log=log)
    except KeyError as missing:
        raise ValueError(f"parameter {name!r} lacks {missing}") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"parameter {name!r}: {error}") from None
