"""Progressive model growth (thesis 5.4, Algorithm 5).

High level: random search over the space's parameters except ``reg_strength``; every
suggestion starts at ``initial_reg_strength`` (large, so the dynamic model starts small).
Low level (:class:`ProgressiveGrowthMonitor`): halve ``reg_strength`` when the validation
loss stalls, stop after a long stall or below the floor; the engine then asks for the
next suggestion (a restart with new hyperparameters).
"""

from __future__ import annotations

from dynas_service.search._rng import Seed, make_rng
from dynas_service.search.decisions import Suggestion
from dynas_service.search.monitors import DEFAULT_MAX_EPOCHS, ProgressiveGrowthMonitor
from dynas_service.search.random_search import check_max_trials
from dynas_service.search.space import SearchSpace

REG_STRENGTH = "reg_strength"


class ProgressiveGrowth:
    """Suggestions carry ``learning_rate``, ``batch_size`` (etc.) and the initial reg_strength.

    Keys are ``progressive-<n>``. Unbounded unless ``max_trials`` is set.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: Seed,
        initial_reg_strength: float = 1e-3,
        multiplier: float = 0.5,
        floor: float = 3.2e-5,
        max_stall_epochs: int = 10,
        max_epochs: int = DEFAULT_MAX_EPOCHS,
        max_trials: int | None = None,
    ) -> None:
        ProgressiveGrowthMonitor(
            initial_reg_strength, multiplier, floor, max_stall_epochs, max_epochs
        )
        check_max_trials(max_trials)
        self.space = space
        self.initial_reg_strength = float(initial_reg_strength)
        self.multiplier = multiplier
        self.floor = floor
        self.max_stall_epochs = max_stall_epochs
        self.max_epochs = max_epochs
        self.max_trials = max_trials
        self.n_suggested = 0
        self._rng = make_rng(seed)

    def suggest(self) -> Suggestion | None:
        """A new random configuration with ``reg_strength = initial_reg_strength``."""
        if self.max_trials is not None and self.n_suggested >= self.max_trials:
            return None
        params = {
            name: param.sample(self._rng)
            for name, param in self.space.params.items()
            if name != REG_STRENGTH
        }
        params[REG_STRENGTH] = self.initial_reg_strength
        key = f"progressive-{self.n_suggested}"
        self.n_suggested += 1
        return Suggestion(key, params)

    def monitor(self, suggestion: Suggestion) -> ProgressiveGrowthMonitor:
        """The stall schedule, starting from the suggestion's ``reg_strength``."""
        start = float(suggestion.params.get(REG_STRENGTH, self.initial_reg_strength))
        return ProgressiveGrowthMonitor(
            start, self.multiplier, self.floor, self.max_stall_epochs, self.max_epochs
        )
