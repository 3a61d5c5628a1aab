"""One training epoch (grow -> fit -> prune, Algorithm 2) and evaluation.

Static models and static fine-tuning take the same path with ``dynamic=False`` (no growth,
no pruning) and ``regularizer="none"``, so dynamic and static runs are compared fairly.
X/y are tensors on the model's device: X raw inputs ``(N, *input_shape)``, y int64 class
labels or float regression targets ``(N,)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dynas_service.nn.model import DynamicNet
from dynas_service.nn.regularizers import PenaltyGradient, check_regularizer
from dynas_service.nn.spec import DynamicSettings
from dynas_service.nn.surgery.grow_prune import grow, prune

EVAL_BATCH_SIZE = 2048


@dataclass(frozen=True)
class EpochResult:
    """What one epoch produced; ``layer_sizes``/``n_parameters`` are after pruning.

    ``train_loss``: mean batch loss plus the penalty at the end of the fit (before pruning);
    ``val_loss``: data loss on the validation set (no penalty; regression: MSE on the
    standardized target scale); ``val_metric``: accuracy or RMSE in target units;
    ``seconds``: wall time of the whole epoch including evaluation.
    """

    train_loss: float
    val_loss: float
    val_metric: float
    metric_name: str
    higher_is_better: bool
    layer_sizes: list[int]
    n_parameters: int
    seconds: float


def data_loss(model: DynamicNet, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (classification) or MSE on the standardized target scale."""
    if model.task == "classification":
        return F.cross_entropy(output, y)
    return F.mse_loss(output.reshape(-1) / model.target_std, y.reshape(-1) / model.target_std)


def train_epoch(
    model: DynamicNet,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    reg_strength: float,
    regularizer: str,
    dynamic: bool,
    settings: DynamicSettings,
    generator: torch.Generator,
) -> float:
    """Grow (if ``dynamic``), fit once over ``X, y`` in shuffled batches, prune (if
    ``dynamic``); return the mean train loss (see :class:`EpochResult`)."""
    _check_training_args(X, y, batch_size, reg_strength, regularizer)
    if dynamic:
        grow(model, optimizer, settings, generator)
    with PenaltyGradient(model, regularizer, reg_strength) as penalty:
        mean_loss = _fit_once(model, optimizer, X, y, batch_size, penalty, generator)
        train_loss = mean_loss + penalty.value()
    if dynamic:
        prune(model, optimizer, settings)
    return train_loss


def _fit_once(
    model: DynamicNet,
    optimizer: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    penalty: PenaltyGradient,
    generator: torch.Generator,
) -> float:
    model.train()
    model.dropout_generator = _device_generator(generator, X.device)
    order = torch.randperm(X.shape[0], generator=generator).to(X.device)
    total = torch.zeros((), device=X.device)
    n_batches = 0
    try:
        for batch in order.split(batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss = data_loss(model, model(X[batch]), y[batch])
            loss.backward()
            penalty.add_to_grad()
            optimizer.step()
            total += loss.detach()
            n_batches += 1
    finally:
        model.dropout_generator = None
    optimizer.zero_grad(set_to_none=True)
    return float(total) / max(n_batches, 1)


def _device_generator(generator: torch.Generator, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded from ``generator`` (for dropout masks)."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    return torch.Generator(device=device).manual_seed(seed)


def evaluate(
    model: DynamicNet, X: torch.Tensor, y: torch.Tensor, *, batch_size: int = EVAL_BATCH_SIZE
) -> tuple[float, float]:
    """``(metric, loss)`` on ``X, y`` in eval mode: accuracy or RMSE, and the data loss."""
    if X.shape[0] == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"evaluate needs equal, non-zero lengths, got {X.shape[0]} and {y.shape[0]}"
        )
    was_training = model.training
    model.eval()
    loss_sum, metric_sum = 0.0, 0.0
    classification = model.task == "classification"
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            out = model(xb)
            loss_sum += float(data_loss(model, out, yb)) * xb.shape[0]
            if classification:
                metric_sum += float((out.argmax(dim=1) == yb).sum())
            else:
                metric_sum += float((out.reshape(-1) - yb.reshape(-1)).square().sum())
    model.train(was_training)
    n = X.shape[0]
    metric = metric_sum / n if classification else math.sqrt(metric_sum / n)
    return metric, loss_sum / n


def fit_epoch(
    model: DynamicNet,
    optimizer: torch.optim.Optimizer,
    X_train: torch.Tensor,
    y_train: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    *,
    batch_size: int,
    reg_strength: float,
    regularizer: str,
    dynamic: bool,
    settings: DynamicSettings,
    generator: torch.Generator,
) -> EpochResult:
    """:func:`train_epoch` then :func:`evaluate` on the validation set (after pruning)."""
    start = time.perf_counter()
    train_loss = train_epoch(
        model,
        optimizer,
        X_train,
        y_train,
        batch_size=batch_size,
        reg_strength=reg_strength,
        regularizer=regularizer,
        dynamic=dynamic,
        settings=settings,
        generator=generator,
    )
    metric, val_loss = evaluate(model, X_val, y_val)
    classification = model.task == "classification"
    return EpochResult(
        train_loss=train_loss,
        val_loss=val_loss,
        val_metric=metric,
        metric_name="accuracy" if classification else "rmse",
        higher_is_better=classification,
        layer_sizes=model.layer_sizes(),
        n_parameters=model.n_parameters(),
        seconds=time.perf_counter() - start,
    )


def _check_training_args(
    X: torch.Tensor, y: torch.Tensor, batch_size: int, reg_strength: float, regularizer: str
) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size} must be >= 1")
    if X.shape[0] == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y need equal, non-zero lengths, got {X.shape[0]} and {y.shape[0]}")
    check_regularizer(regularizer, reg_strength)
