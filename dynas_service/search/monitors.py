"""Per-trial epoch monitors: early stopping and progressive growth's stall schedule.

Both watch the validation loss (lower is better), one call of ``observe`` per finished
epoch, and never let a trial run unbounded: after ``max_epochs`` observations they stop.
A non-finite loss (a diverged model) counts as an epoch without improvement.
Monitors are small picklable state machines; the adapter may keep them anywhere.
"""

from __future__ import annotations

import math

from dynas_service.search.decisions import EpochDecision

DEFAULT_MAX_EPOCHS = 100


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")


class EarlyStoppingMonitor:
    """Stop after ``patience`` consecutive epochs without a new best loss, or ``max_epochs``.

    Keras semantics: with ``patience=8`` the 8th non-improving epoch in a row stops.
    """

    def __init__(self, patience: int = 8, max_epochs: int = DEFAULT_MAX_EPOCHS) -> None:
        _check_positive_int("patience", patience)
        _check_positive_int("max_epochs", max_epochs)
        self.patience = patience
        self.max_epochs = max_epochs
        self.best = math.inf
        self.epochs_seen = 0
        self.setbacks = 0

    def observe(self, epoch: int, value: float) -> EpochDecision:
        """Record epoch ``epoch``'s validation loss ``value``; ``stop`` ends the trial."""
        self.epochs_seen += 1
        if math.isfinite(value) and value < self.best:
            self.best = float(value)
            self.setbacks = 0
        else:
            self.setbacks += 1
        stop = self.setbacks >= self.patience or self.epochs_seen >= self.max_epochs
        return EpochDecision(stop=stop)


class ProgressiveGrowthMonitor:
    """Algorithm 5's low level: lower ``reg_strength`` when the loss stalls, so the net grows.

    After an epoch whose loss does not beat the run's best, the first epoch of that stall
    multiplies ``reg_strength`` by ``multiplier`` (once per stall) and the decision carries
    the new value. The trial stops when a stall lasts more than ``max_stall_epochs``
    epochs, when ``reg_strength`` falls below ``floor``, or after ``max_epochs``.
    """

    def __init__(
        self,
        initial_reg_strength: float = 1e-3,
        multiplier: float = 0.5,
        floor: float = 3.2e-5,
        max_stall_epochs: int = 10,
        max_epochs: int = DEFAULT_MAX_EPOCHS,
    ) -> None:
        if not (math.isfinite(initial_reg_strength) and initial_reg_strength > 0):
            raise ValueError(f"initial_reg_strength must be > 0, got {initial_reg_strength=}")
        if not 0 < multiplier < 1:
            raise ValueError(f"multiplier must lie in (0, 1), got {multiplier=}")
        if not (math.isfinite(floor) and floor >= 0):
            raise ValueError(f"floor must be >= 0, got {floor=}")
        _check_positive_int("max_stall_epochs", max_stall_epochs)
        _check_positive_int("max_epochs", max_epochs)
        self.reg_strength = float(initial_reg_strength)
        self.multiplier = multiplier
        self.floor = floor
        self.max_stall_epochs = max_stall_epochs
        self.max_epochs = max_epochs
        self.best = math.inf
        self.stall_epochs = 0
        self.epochs_seen = 0

    def observe(self, epoch: int, value: float) -> EpochDecision:
        """Record epoch ``epoch``'s validation loss; may lower ``reg_strength`` or stop."""
        self.epochs_seen += 1
        new_reg: float | None = None
        if math.isfinite(value) and value < self.best:
            self.best = float(value)
            self.stall_epochs = 0
        else:
            if self.stall_epochs == 0:
                self.reg_strength *= self.multiplier
                new_reg = self.reg_strength
            self.stall_epochs += 1
        stop = (
            self.stall_epochs > self.max_stall_epochs
            or self.reg_strength < self.floor
            or self.epochs_seen >= self.max_epochs
        )
        return EpochDecision(stop=stop, reg_strength=new_reg)
