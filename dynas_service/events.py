"""What a running search tells the outside world, as plain frozen records.

The engine emits these to a :class:`SearchObserver`; the job store and MLflow tracking
consume them. Kept dependency-free so every layer can import it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

_log = logging.getLogger(__name__)

Origin = Literal["fresh", "clone", "continue"]


@dataclass(frozen=True)
class IndividualInfo:
    """A model that starts training: a new configuration, a clone or a continued individual.

    ``started_at_s`` is seconds since the job started. ``parent_id`` names the individual
    whose model a clone starts from (``None`` for fresh ones).
    """

    individual_id: str
    trial_id: str
    parent_id: str | None
    origin: Origin
    hyperparameters: dict[str, Any]
    started_at_s: float


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch of one individual (measured after pruning).

    ``value`` is the validation metric named ``metric_name`` (accuracy or rmse);
    ``t`` is seconds since the job started; ``age`` counts the individual's epochs,
    inherited through clones.
    """

    individual_id: str
    trial_id: str
    epoch: int
    age: int
    t: float
    metric_name: str
    value: float
    train_loss: float
    val_loss: float
    reg_strength: float
    layer_sizes: list[int]
    n_parameters: int
    epoch_seconds: float


@dataclass(frozen=True)
class BestRecord:
    """The best model found so far; ``model_path`` is its immutable safetensors zip."""

    metric: str
    value: float
    higher_is_better: bool
    trial_id: str
    individual_id: str
    epoch: int
    found_at_s: float
    hyperparameters: dict[str, Any]
    layer_sizes: list[int]
    parameters: int
    model_path: str
    version: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BestRecord:
        """Inverse of :meth:`to_dict`; unknown keys are ignored for forward compatibility."""
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class TracePoint:
    """One step of the performance trace: the best-so-far ``value`` from time ``t`` on."""

    t: float
    value: float
    trial_id: str
    epoch: int


class SearchObserver(Protocol):
    """Receives a search's events in the driver process; must return quickly, never raise."""

    def on_individual_start(self, info: IndividualInfo) -> None: ...

    def on_epoch(self, record: EpochRecord) -> None: ...

    def on_best(self, best: BestRecord) -> None: ...

    def on_finish(self, status: str, error: str | None) -> None: ...


class NullObserver:
    """An observer that ignores everything (the default)."""

    def on_individual_start(self, info: IndividualInfo) -> None:
        return None

    def on_epoch(self, record: EpochRecord) -> None:
        return None

    def on_best(self, best: BestRecord) -> None:
        return None

    def on_finish(self, status: str, error: str | None) -> None:
        return None


class CompositeObserver:
    """Fans events out to several observers; one failing observer never stops the others."""

    def __init__(self, observers: list[SearchObserver]) -> None:
        self._observers = list(observers)

    def _each(self, method: str, *args: Any) -> None:
        for observer in self._observers:
            try:
                getattr(observer, method)(*args)
            except Exception:  # an observer must never break the search
                _log.exception("observer %r failed in %s", observer, method)

    def on_individual_start(self, info: IndividualInfo) -> None:
        self._each("on_individual_start", info)

    def on_epoch(self, record: EpochRecord) -> None:
        self._each("on_epoch", record)

    def on_best(self, best: BestRecord) -> None:
        self._each("on_best", best)

    def on_finish(self, status: str, error: str | None) -> None:
        self._each("on_finish", status, error)
