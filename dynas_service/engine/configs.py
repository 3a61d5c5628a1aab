"""Random, grid and progressive search as a Ray Tune ``Searcher``.

The search object (``RandomSearch``, ``AnytimeGridSearch``, ``ProgressiveGrowth``) decides
which configuration comes next; its per-trial monitor travels inside the trial's config and
runs in the trainable, so early stopping and progressive growth's new ``reg_strength`` take
effect at the next epoch without a round trip to the driver.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

from ray.tune.search import Searcher

from dynas_service.engine.trainable import VALUE, encode_object
from dynas_service.search import (
    AnytimeGridSearch,
    ConfigurationSearch,
    ProgressiveGrowth,
    RandomSearch,
    SearchSpace,
)


def make_configuration_search(
    algorithm: str, space: SearchSpace, options: dict[str, Any], seed: int
) -> ConfigurationSearch:
    """The search object of ``algorithm`` with the job's options."""
    classes = {"random": RandomSearch, "grid": AnytimeGridSearch,
               "progressive": ProgressiveGrowth}
    if algorithm not in classes:
        raise ValueError(f"not a configuration search: {algorithm=}")
    return classes[algorithm](space, seed=seed, **options)  # type: ignore[no-any-return]


def trial_seed(job_seed: int, individual_id: str) -> int:
    """A reproducible per-individual torch seed."""
    return (job_seed * 1_000_003 + zlib.crc32(individual_id.encode())) % (2**31)


class ConfigurationSearcher(Searcher):
    """Hands the search's suggestions to Tune until it is exhausted or the budget is spent.

    ``budget_trials`` counts configurations over the job's life (``started`` carries the
    count of earlier runs). ``resumed`` configs (trials interrupted by a stop) are handed out
    first. ``in_flight`` maps Tune trial ids to the config of every unfinished trial.
    ``on_change()`` is called after a configuration was handed out or a trial ended (the
    engine persists the job's state there, so a killed runner loses little).
    """

    def __init__(self, search: ConfigurationSearch, *, seed: int, cpus: float,
                 budget_trials: int | None, started: int = 0,
                 resumed: list[dict[str, Any]] | None = None) -> None:
        super().__init__(metric=VALUE, mode="max")
        self.search = search
        self.seed = seed
        self.cpus = cpus
        self.budget_trials = budget_trials
        self.started = started
        self.resumed = list(resumed or [])
        self.in_flight: dict[str, dict[str, Any]] = {}
        self.on_change: Callable[[], None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its searcher; the hook is a driver-only closure.
        return {**self.__dict__, "on_change": None}

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        if self.resumed:
            config = self.resumed.pop(0)
        else:
            if self.budget_trials is not None and self.started >= self.budget_trials:
                return Searcher.FINISHED
            suggestion = self.search.suggest()
            if suggestion is None:
                return Searcher.FINISHED
            self.started += 1
            config = {
                "individual_id": suggestion.key, "parent_id": None, "origin": "fresh",
                "hyperparameters": dict(suggestion.params), "source": None,
                "seed": trial_seed(self.seed, suggestion.key), "cpus": self.cpus,
                "monitor": encode_object(self.search.monitor(suggestion)),
                "report_ahead": True,  # FIFO: nothing pauses these trials
            }
        self.in_flight[trial_id] = config
        self._changed()
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        self.in_flight.pop(trial_id, None)
        self._changed()

    def save(self, checkpoint_path: str) -> None:
        """Tune's periodic searcher snapshot: unused, the engine persists its own state."""

    def restore(self, checkpoint_path: str) -> None:
        """See :meth:`save`."""
