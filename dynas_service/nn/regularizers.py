"""Penalties on the hidden layers' incoming parameters (never on the output layer).

With ``rows_j`` = unit j's incoming weights and bias (j = 1..n, current order):

- ``weighted_l1``: ``alpha * sum_j j * ||rows_j||_1`` (structured sparsity, thesis 4.1)
- ``l1``: ``alpha * sum_j ||rows_j||_1``
- ``l21``: ``alpha * sum_j ||rows_j||_2`` (group lasso, Murray & Chiang 2015)
- ``none``: 0

:func:`penalty` is the differentiable reference. Training uses :class:`PenaltyGradient`,
which adds the same (sub)gradient straight to ``.grad`` after ``backward()``: adding the
penalty to the loss would give exactly this gradient (autograd's d|w|/dw is ``sign(w)``,
0 at 0), but building a graph for it every step cost 23-29 % of an epoch. The per-element
strengths are precomputed once per fit, valid while the layer sizes do not change.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from dynas_service.nn.layers import DynamicLayer
    from dynas_service.nn.model import DynamicNet

REGULARIZERS: tuple[str, ...] = ("weighted_l1", "l1", "l21", "none")


def check_regularizer(regularizer: str, alpha: float) -> None:
    """Raise ``ValueError`` for an unknown regularizer or a negative/non-finite strength."""
    if regularizer not in REGULARIZERS:
        raise ValueError(f"regularizer={regularizer!r} is not one of {REGULARIZERS}")
    if not (alpha >= 0 and alpha < float("inf")):
        raise ValueError(f"reg_strength={alpha} must be a finite number >= 0")


def unit_scales(layer: DynamicLayer, regularizer: str, alpha: float) -> torch.Tensor:
    """Per-unit l1 strength ``(n_units,)``: ``alpha * j`` (weighted_l1) or ``alpha`` (l1)."""
    return _per_unit(layer.n_units, regularizer, alpha, layer.weight.dtype, layer.weight.device)


def _per_unit(
    n: int, regularizer: str, alpha: float, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    if regularizer == "weighted_l1":
        return alpha * torch.arange(1, n + 1, dtype=dtype, device=device)
    return torch.full((n,), alpha, dtype=dtype, device=device)


def layer_penalty(layer: DynamicLayer, regularizer: str, alpha: float) -> torch.Tensor:
    """The penalty of one hidden layer (differentiable, scalar)."""
    check_regularizer(regularizer, alpha)
    if regularizer == "none" or alpha == 0.0:
        return layer.weight.new_zeros(())
    rows = layer.unit_rows()
    if regularizer == "l21":
        return alpha * torch.linalg.vector_norm(rows, dim=1).sum()
    return (unit_scales(layer, regularizer, alpha) * rows.abs().sum(dim=1)).sum()


def penalty(model: DynamicNet, regularizer: str, alpha: float) -> torch.Tensor:
    """The model's penalty: the sum over hidden layers (differentiable, scalar)."""
    total = model.output_layer.weight.new_zeros(())
    for layer in model.hidden_layers:
        total = total + layer_penalty(layer, regularizer, alpha)
    return total


class PenaltyGradient:
    """Adds the penalty's (sub)gradient to the hidden parameters' ``.grad``.

    Use it as a context manager around one fit, after growth (the sizes are then fixed
    until the prune); call :meth:`add_to_grad` after each ``backward()`` and before
    ``optimizer.step()``. For the l1 penalties, entering moves the hidden weights and biases
    into one shared buffer (each parameter becomes a view of it; values, shapes and
    optimizer state unchanged), so the sign of every regularized parameter is one operation
    per step instead of one per tensor; leaving gives each parameter its own storage back.
    """

    def __init__(self, model: DynamicNet, regularizer: str, alpha: float) -> None:
        check_regularizer(regularizer, alpha)
        self._model = model
        self._regularizer = regularizer
        self._alpha = float(alpha)
        self._active = regularizer != "none" and alpha > 0.0
        self._params: list[torch.nn.Parameter] = []
        self._entered = False
        # l1 penalties, set while entered: the shared parameter buffer, per-element
        # strengths in the same layout, a sign buffer, and per-parameter views of the last two
        self._flat = torch.empty(0)
        self._flat_scale = torch.empty(0)
        self._sign = torch.empty(0)
        self._sign_views: list[torch.Tensor] = []
        self._scale_views: list[torch.Tensor] = []
        if self._active:
            for layer in model.hidden_layers:
                self._params += [layer.weight, layer.bias]

    def __enter__(self) -> PenaltyGradient:
        if self._entered:
            raise RuntimeError("PenaltyGradient is already entered")
        self._entered = True
        if self._active and self._regularizer != "l21" and self._params:
            self._pack()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._entered = False
        if self._flat.numel():
            for p in self._params:
                p.data = p.detach().clone()
        self._flat = self._flat_scale = self._sign = torch.empty(0)
        self._sign_views, self._scale_views = [], []

    def _pack(self) -> None:
        with torch.no_grad():
            self._flat = torch.cat([p.detach().reshape(-1) for p in self._params])
        self._flat_scale = _flat_scales(
            tuple(tuple(layer.weight.shape) for layer in self._model.hidden_layers),
            self._regularizer,
            self._alpha,
            self._flat.dtype,
            self._flat.device,
        )
        self._sign = torch.empty_like(self._flat)
        offset = 0
        for p in self._params:
            n = p.numel()
            p.data = self._flat[offset : offset + n].view_as(p)
            self._sign_views.append(self._sign[offset : offset + n].view_as(p))
            self._scale_views.append(self._flat_scale[offset : offset + n].view_as(p))
            offset += n

    def add_to_grad(self) -> None:
        """``grad += d penalty / d param`` for every hidden parameter."""
        if not self._active:
            return
        if not self._entered:
            raise RuntimeError("use PenaltyGradient as a context manager around the fit")
        if not self._params:
            return
        if self._regularizer == "l21":
            with torch.no_grad():
                self._add_l21()
            return
        # plain tensors only (the buffers and .grad): nothing for autograd to record
        torch.sign(self._flat, out=self._sign)
        grads = [_grad_of(p) for p in self._params]
        torch._foreach_addcmul_(grads, self._sign_views, self._scale_views)

    def _add_l21(self) -> None:
        for layer in self._model.hidden_layers:
            w, b = layer.weight, layer.bias
            norms = (w.reshape(w.shape[0], -1).square().sum(1) + b.square()).sqrt()
            factor = torch.where(norms > 0, self._alpha / norms, torch.zeros_like(norms))
            _grad_of(w).add_(w * factor.reshape((-1,) + (1,) * (w.dim() - 1)))
            _grad_of(b).add_(b * factor)

    def value(self) -> float:
        """The penalty at the current parameters (no graph)."""
        if not self._active:
            return 0.0
        with torch.no_grad():
            if self._flat.numel():
                return float(torch.dot(self._flat.abs(), self._flat_scale))
            return float(penalty(self._model, self._regularizer, self._alpha))


@functools.lru_cache(maxsize=8)
def _flat_scales(
    weight_shapes: tuple[tuple[int, ...], ...],
    regularizer: str,
    alpha: float,
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    """Per-element l1 strengths of the hidden weights and biases, flattened in parameter
    order (weight, bias, weight, ...). Cached: in a steady state the grown sizes repeat
    from one epoch to the next. Read-only for callers."""
    parts: list[torch.Tensor] = []
    for shape in weight_shapes:
        per_unit = _per_unit(shape[0], regularizer, alpha, dtype, device)
        parts += [per_unit.repeat_interleave(math.prod(shape[1:])), per_unit]
    return torch.cat(parts)


def _grad_of(param: torch.Tensor) -> torch.Tensor:
    if param.grad is None:
        param.grad = torch.zeros_like(param)
    return param.grad
