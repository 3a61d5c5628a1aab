"""Architecture and dynamic-sizing settings as frozen, JSON-safe records.

An :class:`ArchitectureSpec` describes a model completely enough to rebuild it with
fresh weights: the family, the input shape, the output width, the task and the *current*
hidden sizes (which change as a dynamic model grows and prunes). Checkpoints and exported
models store it as JSON next to the tensors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

Family = Literal["mlp", "cnn"]
Task = Literal["classification", "regression"]
OptimizerStatePolicy = Literal["carry", "reset"]

FAMILIES: tuple[str, ...] = ("mlp", "cnn")
TASKS: tuple[str, ...] = ("classification", "regression")
OPTIMIZER_STATE_POLICIES: tuple[str, ...] = ("carry", "reset")

#: Dropout of the thesis' vision model: after every stride-2 convolution (conv2, conv4).
CNN_STRIDE2_DROPOUT: tuple[float, float] = (0.2, 0.5)


@dataclass(frozen=True)
class ArchitectureSpec:
    """A model's architecture.

    ``hidden_sizes[i]`` is the number of units (dense) or channels (conv) of hidden layer
    ``i``; ``dropout[i]`` the dropout rate applied after hidden layer ``i``. A ``cnn`` has
    ``len(hidden_sizes) - 1`` conv layers (3x3, padding 1, strides 1, 2, 1, 2, ...) and one
    dense hidden layer and needs ``input_shape == (C, H, W)``; an ``mlp`` flattens any input
    shape. Classification outputs ``n_outputs`` logits; regression outputs 1 value.
    """

    family: Family
    input_shape: tuple[int, ...]
    n_outputs: int
    task: Task
    hidden_sizes: tuple[int, ...]
    dropout: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))
        object.__setattr__(self, "hidden_sizes", tuple(int(v) for v in self.hidden_sizes))
        object.__setattr__(self, "dropout", tuple(float(v) for v in self.dropout))
        _validate_spec(self)

    @property
    def n_conv(self) -> int:
        """Number of conv hidden layers (0 for an mlp)."""
        return len(self.hidden_sizes) - 1 if self.family == "cnn" else 0

    def with_hidden_sizes(self, sizes: Sequence[int]) -> ArchitectureSpec:
        """The same architecture with other hidden sizes."""
        return ArchitectureSpec(
            self.family, self.input_shape, self.n_outputs, self.task, tuple(sizes), self.dropout
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (lists instead of tuples)."""
        return {
            "family": self.family,
            "input_shape": list(self.input_shape),
            "n_outputs": self.n_outputs,
            "task": self.task,
            "hidden_sizes": list(self.hidden_sizes),
            "dropout": list(self.dropout),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArchitectureSpec:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on missing or bad fields."""
        keys = ("family", "input_shape", "n_outputs", "task", "hidden_sizes", "dropout")
        missing = [k for k in keys if k not in data]
        if missing:
            raise ValueError(f"architecture spec lacks fields {missing}")
        for k in ("input_shape", "hidden_sizes", "dropout"):
            if not isinstance(data[k], list | tuple):
                raise ValueError(f"architecture spec field {k}={data[k]!r} is not a list")
        return cls(
            family=cast(Family, data["family"]),
            input_shape=tuple(_as_int(v, "input_shape") for v in data["input_shape"]),
            n_outputs=_as_int(data["n_outputs"], "n_outputs"),
            task=cast(Task, data["task"]),
            hidden_sizes=tuple(_as_int(v, "hidden_sizes") for v in data["hidden_sizes"]),
            dropout=tuple(float(v) for v in data["dropout"]),
        )


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ValueError(f"architecture spec field {name} has a non-integer value {value!r}")
    return int(value)


def _validate_spec(spec: ArchitectureSpec) -> None:
    if spec.family not in FAMILIES:
        raise ValueError(f"family={spec.family!r} is not one of {FAMILIES}")
    if spec.task not in TASKS:
        raise ValueError(f"task={spec.task!r} is not one of {TASKS}")
    if not spec.input_shape or any(v < 1 for v in spec.input_shape):
        raise ValueError(f"input_shape={spec.input_shape} must be non-empty and positive")
    if spec.family == "cnn" and len(spec.input_shape) != 3:
        raise ValueError(f"a cnn needs input_shape=(C, H, W), got input_shape={spec.input_shape}")
    min_layers = 2 if spec.family == "cnn" else 1
    if len(spec.hidden_sizes) < min_layers:
        raise ValueError(
            f"a {spec.family} needs at least {min_layers} hidden layers, got "
            f"hidden_sizes={spec.hidden_sizes}"
        )
    if any(v < 1 for v in spec.hidden_sizes):
        raise ValueError(f"hidden_sizes={spec.hidden_sizes} must all be >= 1")
    if len(spec.dropout) != len(spec.hidden_sizes):
        raise ValueError(
            f"dropout={spec.dropout} needs one rate per hidden layer ({len(spec.hidden_sizes)})"
        )
    if any(not 0.0 <= p < 1.0 or math.isnan(p) for p in spec.dropout):
        raise ValueError(f"dropout={spec.dropout} rates must lie in [0, 1)")
    expected_outputs_ok = spec.n_outputs == 1 if spec.task == "regression" else spec.n_outputs >= 2
    if not expected_outputs_ok:
        raise ValueError(
            f"n_outputs={spec.n_outputs} does not fit task={spec.task!r} "
            "(regression needs 1, classification at least 2)"
        )


def default_spec(
    family: str,
    input_shape: Sequence[int],
    n_outputs: int,
    task: str,
    *,
    hidden_layers: int = 5,
    initial_units: int = 20,
    dropout: float | Sequence[float] | None = None,
) -> ArchitectureSpec:
    """The thesis' reference model of ``family`` with ``hidden_layers`` equal widths.

    ``dropout=None`` gives the family default: none for an mlp; for a cnn 0.2 after the first
    stride-2 conv and 0.5 after every later one (conv2 and conv4 in the 5-layer model). A
    float applies that rate after every hidden layer; a sequence gives one rate per layer.
    """
    if hidden_layers < 1:
        raise ValueError(f"hidden_layers={hidden_layers} must be >= 1")
    if initial_units < 1:
        raise ValueError(f"initial_units={initial_units} must be >= 1")
    if dropout is None:
        rates = _default_dropout(family, hidden_layers)
    elif isinstance(dropout, int | float):
        rates = (float(dropout),) * hidden_layers
    else:
        rates = tuple(float(p) for p in dropout)
    return ArchitectureSpec(
        family=cast(Family, family),
        input_shape=tuple(input_shape),
        n_outputs=n_outputs,
        task=cast(Task, task),
        hidden_sizes=(initial_units,) * hidden_layers,
        dropout=rates,
    )


def _default_dropout(family: str, hidden_layers: int) -> tuple[float, ...]:
    if family != "cnn":
        return (0.0,) * hidden_layers
    rates: list[float] = []
    n_stride2 = 0
    for i in range(hidden_layers):
        is_stride2_conv = i < hidden_layers - 1 and i % 2 == 1
        if is_stride2_conv:
            rates.append(CNN_STRIDE2_DROPOUT[min(n_stride2, 1)])
            n_stride2 += 1
        else:
            rates.append(0.0)
    return tuple(rates)


@dataclass(frozen=True)
class DynamicSettings:
    """Hyperparameters of dynamic auto-sizing (Algorithm 2).

    ``tau``: pruning threshold and scale of new parameters; ``growth_fraction`` and
    ``min_growth``: a layer of n units grows by ``max(int(n * growth_fraction), min_growth)``;
    ``optimizer_state``: ``"carry"`` keeps Adam moments with their parameters (new ones
    start at zero), ``"reset"`` zeroes every moment at each surgery and keeps the step count
    (what the TensorFlow reference effectively did).
    """

    tau: float = 1e-3
    growth_fraction: float = 0.2
    min_growth: int = 20
    optimizer_state: OptimizerStatePolicy = "carry"

    def __post_init__(self) -> None:
        if not (self.tau > 0 and math.isfinite(self.tau)):
            raise ValueError(f"tau={self.tau} must be a positive finite number")
        if not (self.growth_fraction >= 0 and math.isfinite(self.growth_fraction)):
            raise ValueError(f"growth_fraction={self.growth_fraction} must be >= 0")
        if self.min_growth < 0:
            raise ValueError(f"min_growth={self.min_growth} must be >= 0")
        if self.optimizer_state not in OPTIMIZER_STATE_POLICIES:
            raise ValueError(
                f"optimizer_state={self.optimizer_state!r} is not one of {OPTIMIZER_STATE_POLICIES}"
            )

    def growth(self, n_units: int) -> int:
        """How many units a layer of ``n_units`` gains in one grow step."""
        return max(int(n_units * self.growth_fraction), self.min_growth)
