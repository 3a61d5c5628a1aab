"""Anytime random search (thesis 5.1): independent draws, each trained with early stopping."""

from __future__ import annotations

from dynas_service.search._rng import Seed, make_rng
from dynas_service.search.decisions import Suggestion
from dynas_service.search.monitors import DEFAULT_MAX_EPOCHS, EarlyStoppingMonitor
from dynas_service.search.space import SearchSpace


def check_max_trials(max_trials: int | None) -> None:
    """Raise ``ValueError`` unless ``max_trials`` is ``None`` or an int >= 1."""
    if max_trials is None:
        return
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
        raise ValueError(f"max_trials must be None or an int >= 1, got {max_trials!r}")


class RandomSearch:
    """Sample every parameter independently; unbounded unless ``max_trials`` is set.

    For a dynamic model the space carries ``reg_strength`` and each suggestion has one.
    Each trial stops after ``patience`` epochs without a better validation loss (or after
    ``max_epochs``). Keys are ``random-<n>``, n counting from 0.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: Seed,
        patience: int = 8,
        max_epochs: int = DEFAULT_MAX_EPOCHS,
        max_trials: int | None = None,
    ) -> None:
        EarlyStoppingMonitor(patience, max_epochs)  # validates both
        check_max_trials(max_trials)
        self.space = space
        self.patience = patience
        self.max_epochs = max_epochs
        self.max_trials = max_trials
        self.n_suggested = 0
        self._rng = make_rng(seed)

    def suggest(self) -> Suggestion | None:
        """A new independent draw, or ``None`` once ``max_trials`` were handed out."""
        if self.max_trials is not None and self.n_suggested >= self.max_trials:
            return None
        key = f"random-{self.n_suggested}"
        self.n_suggested += 1
        return Suggestion(key, self.space.sample(self._rng))

    def monitor(self, suggestion: Suggestion) -> EarlyStoppingMonitor:
        """Early stopping on the validation loss for one trial."""
        return EarlyStoppingMonitor(self.patience, self.max_epochs)
