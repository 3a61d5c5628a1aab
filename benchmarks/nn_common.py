"""Shared helpers of the nn benchmarks: data as tensors, model construction, runs."""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dynas_service.data import load_builtin, train_validation_split
from dynas_service.nn import (
    ArchitectureSpec,
    DynamicNet,
    DynamicSettings,
    EpochResult,
    build_model,
    default_spec,
    fit_epoch,
    input_statistics,
    make_optimizer,
    target_statistics,
)


@dataclass(frozen=True)
class Data:
    """A train/validation split as CPU tensors."""

    name: str
    task: str
    input_shape: tuple[int, ...]
    n_outputs: int
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor


def load_data(name: str, *, sample: float, seed: int, data_dir: Path | None = None) -> Data:
    """Built-in dataset ``name`` (digits, puzzle8), a ``sample`` fraction, 20 % validation."""
    root = data_dir or Path(tempfile.gettempdir()) / "dynas-bench-data"
    dataset = load_builtin(name, root)
    split = train_validation_split(dataset, validation_fraction=0.2, sample=sample, seed=seed)
    task = dataset.info.task
    y_dtype = torch.int64 if task == "classification" else torch.float32
    n_out = int(dataset.info.n_classes or 1) if task == "classification" else 1
    return Data(
        name,
        task,
        tuple(dataset.info.input_shape),
        n_out,
        torch.from_numpy(np.ascontiguousarray(split.X_train, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(split.y_train)).to(y_dtype),
        torch.from_numpy(np.ascontiguousarray(split.X_val, dtype=np.float32)),
        torch.from_numpy(np.ascontiguousarray(split.y_val)).to(y_dtype),
    )


def spec_for(data: Data, family: str, sizes: tuple[int, ...]) -> ArchitectureSpec:
    """The reference model of ``family`` for ``data`` with hidden ``sizes``."""
    base = default_spec(
        family, data.input_shape, data.n_outputs, data.task, hidden_layers=len(sizes)
    )
    return base.with_hidden_sizes(sizes)


def model_for(data: Data, spec: ArchitectureSpec, seed: int) -> DynamicNet:
    """A fresh CPU model of ``spec`` standardized on ``data``'s training set."""
    mean, std = input_statistics(data.X_train)
    t_mean, t_std = (0.0, 1.0)
    if data.task == "regression":
        t_mean, t_std = target_statistics(data.y_train)
    g = torch.Generator().manual_seed(seed)
    return build_model(
        spec,
        input_mean=mean,
        input_std=std,
        target_mean=t_mean,
        target_std=t_std,
        generator=g,
        device="cpu",
    )


def run(
    data: Data,
    model: DynamicNet,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    reg_strength: float,
    regularizer: str,
    dynamic: bool,
    seed: int,
    settings: DynamicSettings | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> list[EpochResult]:
    """Train ``epochs`` epochs (with ``optimizer``, else a fresh Adam); every epoch's result."""
    opt = optimizer or make_optimizer(model, lr)
    g = torch.Generator().manual_seed(seed)
    return [
        fit_epoch(
            model,
            opt,
            data.X_train,
            data.y_train,
            data.X_val,
            data.y_val,
            batch_size=batch_size,
            reg_strength=reg_strength,
            regularizer=regularizer,
            dynamic=dynamic,
            settings=settings or DynamicSettings(),
            generator=g,
        )
        for _ in range(epochs)
    ]


def best(results: list[EpochResult]) -> EpochResult:
    """The best epoch by validation metric (the thesis reports the best epoch)."""
    if results[0].higher_is_better:
        return max(results, key=lambda r: r.val_metric)
    return min(results, key=lambda r: r.val_metric)


def parameter_count(data: Data, family: str, sizes: tuple[int, ...]) -> int:
    """Parameters of the reference model of ``family`` with hidden ``sizes`` (no build)."""
    if family == "mlp":
        widths = [int(np.prod(data.input_shape)), *sizes, data.n_outputs]
        return sum((a + 1) * b for a, b in itertools.pairwise(widths))
    channels, h, w = data.input_shape
    total = 0
    for i, c in enumerate(sizes[:-1]):
        total += (channels * 9 + 1) * c
        stride = 1 + i % 2
        h, w = (h - 1) // stride + 1, (w - 1) // stride + 1
        channels = c
    total += (channels * h * w + 1) * sizes[-1] + (sizes[-1] + 1) * data.n_outputs
    return total


def uniform_sizes_with_params(
    data: Data, family: str, sizes: tuple[int, ...], n_params: int
) -> tuple[int, ...]:
    """Static B: uniform widths (cnn: all conv widths equal, dense width kept; mlp: all
    hidden widths equal) whose parameter count is closest to ``n_params``."""
    n_uniform = len(sizes) - 1 if family == "cnn" else len(sizes)
    tail = sizes[n_uniform:]
    candidates = [(width,) * n_uniform + tail for width in range(1, 4097)]
    return min(candidates, key=lambda c: abs(parameter_count(data, family, c) - n_params))
