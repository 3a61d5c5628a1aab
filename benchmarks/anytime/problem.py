"""The static-model training shared by the stock Ray Tune and Optuna baselines.

A :class:`Problem` is one dataset split as plain numpy arrays (cheap to ship to a Ray
worker or a subprocess); a :class:`StaticTrial` trains one static model of the thesis'
family on it, one epoch per call, with ``dynas_service.nn`` (``dynamic=False``), so the
baselines train exactly the models dynas' static searches train.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from benchmarks.anytime.config import HIDDEN_LAYERS

if TYPE_CHECKING:
    from benchmarks.anytime.datasets import BenchDataset
from dynas_service.nn import (
    DynamicSettings,
    EpochResult,
    build_model,
    default_device,
    default_spec,
    fit_epoch,
    input_statistics,
    load_checkpoint,
    make_optimizer,
    save_checkpoint,
    set_learning_rate,
    target_statistics,
)


@dataclass(frozen=True, eq=False)
class Problem:
    """Training and validation arrays of one dataset split plus the model family."""

    family: str
    task: str
    n_outputs: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray

    @property
    def higher_is_better(self) -> bool:
        return self.task == "classification"

    @classmethod
    def from_dataset(cls, data: BenchDataset, seed: int) -> Problem:
        """The split of ``seed`` of ``data``."""
        split = data.split(seed)
        info = data.dataset.info
        n_outputs = int(info.n_classes or 0) if data.classification else 1
        return cls(
            data.family,
            info.task,
            n_outputs,
            split.X_train,
            split.y_train,
            split.X_val,
            split.y_val,
        )


def layer_sizes(params: Mapping[str, Any]) -> tuple[int, ...]:
    """``units_0 .. units_{L-1}`` of a configuration as a tuple."""
    return tuple(int(params[f"units_{i}"]) for i in range(HIDDEN_LAYERS))


class StaticTrial:
    """One static model trained epoch by epoch with a configuration's hyperparameters.

    ``params`` holds ``learning_rate``, ``batch_size``, ``units_0..units_4`` and, with the
    ``l1`` regularizer, ``reg_strength``. Runs on CUDA when available. Not thread-safe.
    """

    def __init__(
        self, problem: Problem, params: Mapping[str, Any], *, seed: int, regularizer: str
    ) -> None:
        self.device = default_device()
        self.problem = problem
        self.regularizer = regularizer
        self.generator = torch.Generator().manual_seed(seed)
        self.params = dict(params)
        self._tensors()
        spec = default_spec(
            problem.family,
            problem.X_train.shape[1:],
            problem.n_outputs,
            problem.task,
            hidden_layers=HIDDEN_LAYERS,
        ).with_hidden_sizes(layer_sizes(params))
        mean, std = input_statistics(self.X_train)
        t_mean, t_std = (0.0, 1.0)
        if problem.task == "regression":
            t_mean, t_std = target_statistics(self.y_train)
        self.model = build_model(
            spec,
            input_mean=mean,
            input_std=std,
            target_mean=t_mean,
            target_std=t_std,
            generator=self.generator,
            device=self.device,
        )
        self.optimizer = make_optimizer(self.model, float(params["learning_rate"]))
        self.epochs = 0

    def _tensors(self) -> None:
        p, dev = self.problem, self.device
        self.X_train = torch.as_tensor(p.X_train, device=dev)
        self.y_train = torch.as_tensor(p.y_train, device=dev)
        self.X_val = torch.as_tensor(p.X_val, device=dev)
        self.y_val = torch.as_tensor(p.y_val, device=dev)

    def update(self, params: Mapping[str, Any]) -> None:
        """Take new learning rate / batch size / reg strength from now on (PBT explore)."""
        self.params.update(params)
        set_learning_rate(self.optimizer, float(self.params["learning_rate"]))

    def epoch(self) -> EpochResult:
        """Train one epoch and evaluate on the validation set."""
        strength = (
            float(self.params.get("reg_strength", 0.0)) if self.regularizer != "none" else 0.0
        )
        result = fit_epoch(
            self.model,
            self.optimizer,
            self.X_train,
            self.y_train,
            self.X_val,
            self.y_val,
            batch_size=int(self.params["batch_size"]),
            reg_strength=strength,
            regularizer=self.regularizer,
            dynamic=False,
            settings=DynamicSettings(),
            generator=self.generator,
        )
        self.epochs += 1
        return result

    def save(self, directory: Path) -> None:
        """Checkpoint model, Adam state and the epoch count into ``directory``."""
        save_checkpoint(directory, self.model, self.optimizer, {"epochs": self.epochs})

    def restore(self, directory: Path) -> None:
        """Replace model and optimizer with a checkpoint's (possibly another trial's)."""
        self.model, self.optimizer, extra = load_checkpoint(directory, device=self.device)
        self.epochs = int(extra.get("epochs", 0))
        set_learning_rate(self.optimizer, float(self.params["learning_rate"]))
