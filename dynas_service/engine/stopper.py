"""Ending a run: the ``STOP`` file and the time budget, polled by Tune every controller step.

Stateless apart from two plain values, because Tune pickles the stopper into its experiment
state: whatever it holds must still mean the same thing when unpickled.
"""

from __future__ import annotations

import os
import time

from ray import tune


class JobStopper(tune.Stopper):
    """Stops every trial once ``stop_file`` exists or the wall clock passes ``deadline``.

    ``deadline`` is a ``time.time()`` value or ``None`` (no time budget).
    """

    def __init__(self, stop_file: str, deadline: float | None) -> None:
        self.stop_file = stop_file
        self.deadline = deadline

    def __call__(self, trial_id: str, result: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        if self.deadline is not None and time.time() >= self.deadline:
            return True
        return os.path.exists(self.stop_file)
