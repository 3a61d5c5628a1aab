"""The plain Ray Tune function trainable of the stock baselines: one static model.

It is what a Ray Tune user would write around ``dynas_service.nn``: build the model from
the config, restore a checkpoint if Tune hands one over (PBT), train epoch by epoch and
``tune.report`` the validation metric (and a checkpoint every ``checkpoint_every`` epochs).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import torch
from ray import tune

from benchmarks.anytime.config import BATCH_SIZE, LEARNING_RATE, REG_STRENGTH
from benchmarks.anytime.problem import Problem, StaticTrial


def clip_params(
    config: dict[str, Any], learning_rate: tuple[float, float] = LEARNING_RATE
) -> dict[str, Any]:
    """The search ranges enforced (PBT's perturbation may step outside them)."""
    params = dict(config)
    params["learning_rate"] = min(
        max(float(params["learning_rate"]), learning_rate[0]), learning_rate[1]
    )
    params["batch_size"] = min(
        max(round(float(params["batch_size"])), BATCH_SIZE[0]), BATCH_SIZE[1]
    )
    if "reg_strength" in params:
        params["reg_strength"] = min(
            max(float(params["reg_strength"]), REG_STRENGTH[0]), REG_STRENGTH[1]
        )
    return params


def objective(value: float, higher_is_better: bool) -> float:
    """The scheduler's metric: the validation metric, a diverged (NaN) model ranked worst."""
    if math.isfinite(value):
        return value
    return -1.0 if higher_is_better else 1e12


def train_static(
    config: dict[str, Any],
    *,
    problem: Problem,
    regularizer: str,
    max_epochs: int,
    checkpoint_every: int,
    learning_rate: tuple[float, float] = LEARNING_RATE,
) -> None:
    """Train one static model for up to ``max_epochs`` epochs, reporting each epoch."""
    torch.set_num_threads(1)
    trial = StaticTrial(
        problem,
        clip_params(config, learning_rate),
        seed=int(config["trial_seed"]),
        regularizer=regularizer,
    )
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            trial.restore(Path(directory))
    while trial.epochs < max_epochs:
        result = trial.epoch()
        metrics = {
            "value": result.val_metric,
            "objective": objective(result.val_metric, problem.higher_is_better),
            "val_loss": result.val_loss,
            "epoch_seconds": result.seconds,
        }
        if checkpoint_every and trial.epochs % checkpoint_every == 0:
            with tempfile.TemporaryDirectory() as directory:
                trial.save(Path(directory))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))
        else:
            tune.report(metrics)
