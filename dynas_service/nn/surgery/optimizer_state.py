"""Resize a parameter in place and apply the same change to its optimizer state.

The parameter object is kept (only its storage is swapped), so the optimizer's
``param_groups`` and ``state`` keys stay valid; every per-element state tensor (Adam's
``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``) whose shape equals the parameter's old
shape goes through the same transform. Scalars such as ``step`` are kept: in torch they
are per parameter tensor, so new units continue from the tensor's step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Transform = Callable[[torch.Tensor, bool], torch.Tensor]
"""``fn(tensor, is_state)``: the parameter's new tensor from the old one (``is_state`` is
True for optimizer-state tensors, which must get zeros where the parameter gets new
values)."""


def resize_parameter(
    param: torch.nn.Parameter, fn: Transform, optimizer: torch.optim.Optimizer | None
) -> None:
    """Replace ``param``'s data by ``fn(param, False)`` and its state by ``fn(state, True)``.

    The stale ``.grad`` (old shape) is dropped. Must be called between optimizer steps.
    """
    old_shape = param.shape
    with torch.no_grad():
        param.data = fn(param.detach(), False).contiguous()
    param.grad = None
    if optimizer is None or param not in optimizer.state:
        return
    state = optimizer.state[param]
    for key, value in list(state.items()):
        if isinstance(value, torch.Tensor) and value.shape == old_shape and value.dim() > 0:
            state[key] = fn(value, True).contiguous()


def select_along(dim: int, index: torch.Tensor) -> Transform:
    """A transform keeping the entries ``index`` along ``dim`` (parameter and state alike)."""

    def fn(tensor: torch.Tensor, is_state: bool) -> torch.Tensor:
        return tensor.index_select(dim, index.to(tensor.device))

    return fn


def append_along(dim: int, block: torch.Tensor) -> Transform:
    """A transform appending ``block`` along ``dim``; state tensors get zeros instead."""

    def fn(tensor: torch.Tensor, is_state: bool) -> torch.Tensor:
        if is_state:  # zeros after the existing entries along dim: one pad, no temporary
            return F.pad(tensor, [0, 0] * (tensor.dim() - 1 - dim) + [0, block.shape[dim]])
        return torch.cat([tensor, block.to(device=tensor.device, dtype=tensor.dtype)], dim)

    return fn


def reset_moments(optimizer: torch.optim.Optimizer) -> None:
    """Zero every per-element state tensor (Adam's moments); keep the step counts."""
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                value.zero_()
