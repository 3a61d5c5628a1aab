"""Decisions as data: what a search asks its adapter (the Ray engine) to do.

The algorithms in this package never train anything. A configuration search hands out
:class:`Suggestion` s and, per epoch, :class:`EpochDecision` s; the evolution hands out one
:class:`SlotDecision` per individual of a generation and reads back
:class:`IndividualResult` s. All records are frozen, picklable and JSON-friendly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Suggestion:
    """A configuration to train: ``key`` is unique within one search, ``params`` a point."""

    key: str
    params: dict[str, Any]


@dataclass(frozen=True)
class EpochDecision:
    """The monitor's verdict after one epoch.

    ``stop``: end this trial now (its best epoch stays its result). ``reg_strength``: when
    set, train with this regularization strength from the next epoch on (progressive
    growth); ``None`` keeps the current one.
    """

    stop: bool
    reg_strength: float | None = None


class TrialMonitor(Protocol):
    """Watches one trial's per-epoch validation loss (lower is better)."""

    def observe(self, epoch: int, value: float) -> EpochDecision:
        """Record the validation loss of ``epoch`` and decide about the next epoch."""
        ...


class ConfigurationSearch(Protocol):
    """The ask/tell shape shared by random search, grid search and progressive growth."""

    def suggest(self) -> Suggestion | None:
        """The next configuration, or ``None`` when the search is exhausted."""
        ...

    def monitor(self, suggestion: Suggestion) -> TrialMonitor:
        """A fresh monitor for one trial of ``suggestion``."""
        ...


@dataclass(frozen=True)
class Continue:
    """The individual keeps its own model and trains ``epochs`` more with ``genome``."""

    individual_id: str
    genome: dict[str, Any]
    epochs: int = 1


@dataclass(frozen=True)
class Clone:
    """New individual ``individual_id`` starts from a copy of ``source_id``'s model.

    The copy is of the source's model as it was when its last result was reported (the
    end of the previous generation), even if the source also trains in this generation.
    """

    individual_id: str
    source_id: str
    genome: dict[str, Any]
    epochs: int = 1


@dataclass(frozen=True)
class Fresh:
    """New individual ``individual_id`` starts from a freshly initialized model."""

    individual_id: str
    genome: dict[str, Any]
    epochs: int = 1


SlotDecision = Continue | Clone | Fresh


@dataclass(frozen=True)
class IndividualResult:
    """What the adapter reports for one individual after its generation's epochs.

    ``value``: the validation metric after the last epoch; ``higher_is_better``: its
    direction (accuracy True, rmse/loss False); ``epochs_trained``: epochs its model has
    trained in total (informational; the evolution keeps its own age); ``best_value``: the
    best validation metric this individual's model reached so far.
    """

    individual_id: str
    value: float
    higher_is_better: bool
    epochs_trained: int
    best_value: float
