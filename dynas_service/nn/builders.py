"""Model and optimizer construction, and the standardization statistics a model needs."""

from __future__ import annotations

import math

import torch

from dynas_service.nn.model import DynamicNet
from dynas_service.nn.spec import ArchitectureSpec

#: Adam's implementation: the fused kernel cut a small model's step by about a third on
#: these CPUs (see benchmarks/RESULTS.md) and works with in-place resized parameters.
ADAM_FUSED = True


def build_model(
    spec: ArchitectureSpec,
    *,
    input_mean: torch.Tensor | None = None,
    input_std: torch.Tensor | None = None,
    target_mean: float = 0.0,
    target_std: float = 1.0,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> DynamicNet:
    """A fresh :class:`DynamicNet` of ``spec`` with LeCun-normal weights from ``generator``.

    ``input_mean``/``input_std`` (broadcastable to ``spec.input_shape``; default 0 and 1)
    standardize raw inputs inside the net; zero or non-finite stds become 1. For regression,
    ``target_mean``/``target_std`` map the standardized output back to target units (the
    loss is taken on the standardized scale). ``device`` defaults to CUDA when available.
    """
    shape = spec.input_shape
    mean = _broadcast(input_mean, shape, 0.0, "input_mean")
    std = _safe_std(_broadcast(input_std, shape, 1.0, "input_std"))
    if not (math.isfinite(target_mean) and math.isfinite(target_std) and target_std > 0):
        raise ValueError(
            f"target_mean={target_mean}, target_std={target_std} must be finite with std > 0"
        )
    model = DynamicNet(
        spec,
        input_mean=mean,
        input_std=std,
        target_mean=target_mean,
        target_std=target_std,
        generator=generator,
    )
    return model.to(default_device() if device is None else torch.device(device))


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def input_statistics(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature mean and std of raw inputs ``(N, *input_shape)`` (std 0 -> 1)."""
    if x.shape[0] < 1:
        raise ValueError("input_statistics needs at least one sample")
    x = x.float()
    return x.mean(dim=0), _safe_std(x.std(dim=0, unbiased=False))


def target_statistics(y: torch.Tensor) -> tuple[float, float]:
    """Mean and std of regression targets (std 0 -> 1)."""
    y = y.float()
    std = float(y.std(unbiased=False)) if y.numel() > 1 else 1.0
    return float(y.mean()), std if std > 0 and math.isfinite(std) else 1.0


def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Adam:
    """Adam over all parameters with learning rate ``lr`` (> 0)."""
    _check_lr(lr)
    fused = ADAM_FUSED and all(p.dtype == torch.float32 for p in model.parameters())
    return torch.optim.Adam(model.parameters(), lr=lr, fused=fused or None)


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate to ``lr`` (> 0)."""
    _check_lr(lr)
    for group in optimizer.param_groups:
        group["lr"] = lr


def _check_lr(lr: float) -> None:
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr={lr} must be a positive finite number")


def _broadcast(
    value: torch.Tensor | None, shape: tuple[int, ...], fill: float, name: str
) -> torch.Tensor:
    if value is None:
        return torch.full(shape, fill)
    value = torch.as_tensor(value, dtype=torch.float32).cpu()
    if value.numel() == math.prod(shape) and value.dim() > 0:
        return value.reshape(shape).clone()
    try:
        return torch.broadcast_to(value, shape).clone()
    except RuntimeError as exc:
        raise ValueError(f"{name} of shape {tuple(value.shape)} does not fit {shape}") from exc


def _safe_std(std: torch.Tensor) -> torch.Tensor:
    return torch.where(torch.isfinite(std) & (std > 0), std, torch.ones_like(std))
