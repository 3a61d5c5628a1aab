"""Dense and 2-D conv layers whose number of output units (and input width) can change.

Both keep PyTorch layouts: ``DynamicLinear.weight`` is ``(out, in)``,
``DynamicConv2d.weight`` is ``(out, in, kh, kw)``; output unit ``j`` owns row ``j`` of the
weight and entry ``j`` of the bias. Resizing swaps parameter storage in place and
transforms the optimizer state alongside (see :mod:`dynas_service.nn.surgery`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dynas_service.nn.surgery.optimizer_state import append_along, resize_parameter, select_along

#: Keras' lecun_normal: a normal truncated at 2 std, rescaled so the std is sqrt(1/fan_in).
_TRUNCATED_STD_CORRECTION = 0.87962566103423978
#: 2 * Phi(+-2) - 1 for the standard normal CDF Phi: the truncation bounds in erf space.
_ERF_BOUND = math.erf(2.0 / math.sqrt(2.0))


def lecun_normal(
    shape: tuple[int, ...],
    fan_in: int,
    generator: torch.Generator | None = None,
    scale: float = 1.0,
) -> torch.Tensor:
    """LeCun-normal values of ``shape`` times ``scale`` (CPU, float32): a normal truncated
    at 2 std, with std sqrt(1/fan_in).

    Drawn by inverting the CDF (uniform in erf space, then ``erfinv``): a fixed handful of
    operations, where rejection sampling redraws a varying number of times; growth draws
    two blocks per layer every epoch.
    """
    if fan_in < 1:
        raise ValueError(f"fan_in={fan_in} must be >= 1")
    std = math.sqrt(1.0 / fan_in) / _TRUNCATED_STD_CORRECTION
    out = torch.empty(shape).uniform_(-_ERF_BOUND, _ERF_BOUND, generator=generator)
    out.erfinv_().mul_(math.sqrt(2.0) * std * scale)
    bound = 2.0 * std * abs(scale)
    return out.clamp_(-bound, bound)


class DynamicLayer(nn.Module):
    """A layer with ``weight`` (out, in, *kernel) and ``bias`` (out,) that can be resized."""

    weight: nn.Parameter
    bias: nn.Parameter

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)

    @property
    def n_units(self) -> int:
        """Current number of output units (channels for a conv)."""
        return int(self.weight.shape[0])

    @property
    def n_inputs(self) -> int:
        """Current input width (input channels for a conv)."""
        return int(self.weight.shape[1])

    def unit_rows(self) -> torch.Tensor:
        """``(out, fan_in + 1)``: each unit's incoming weights followed by its bias."""
        w = self.weight.reshape(self.n_units, -1)
        return torch.cat([w, self.bias.reshape(-1, 1)], dim=1)

    def active_units(self, tau: float) -> torch.Tensor:
        """Indices of units with some incoming weight or bias ``>= tau`` in absolute value."""
        with torch.no_grad():
            return torch.nonzero(self.unit_rows().abs().amax(dim=1) >= tau).flatten()

    def keep_units(self, index: torch.Tensor, optimizer: torch.optim.Optimizer | None) -> None:
        """Keep only output units ``index`` (in that order)."""
        resize_parameter(self.weight, select_along(0, index), optimizer)
        resize_parameter(self.bias, select_along(0, index), optimizer)

    def keep_inputs(self, index: torch.Tensor, optimizer: torch.optim.Optimizer | None) -> None:
        """Keep only input columns ``index``."""
        resize_parameter(self.weight, select_along(1, index), optimizer)

    def grow_units(
        self,
        n_new: int,
        scale: float,
        optimizer: torch.optim.Optimizer | None,
        generator: torch.Generator | None,
    ) -> None:
        """Append ``n_new`` units: LeCun-normal(fan_in) * ``scale`` weights, zero bias."""
        shape = (n_new, *self.weight.shape[1:])
        fan_in = math.prod(shape[1:])
        block = lecun_normal(shape, fan_in, generator, scale)
        resize_parameter(self.weight, append_along(0, block), optimizer)
        resize_parameter(self.bias, append_along(0, torch.zeros(n_new)), optimizer)

    def grow_inputs(
        self,
        n_new: int,
        scale: float,
        optimizer: torch.optim.Optimizer | None,
        generator: torch.Generator | None,
    ) -> None:
        """Append ``n_new`` input columns: LeCun-normal(new fan_in) * ``scale``."""
        shape = list(self.weight.shape)
        shape[1] = n_new
        fan_in = (self.n_inputs + n_new) * math.prod(shape[2:])
        block = lecun_normal(tuple(shape), fan_in, generator, scale)
        resize_parameter(self.weight, append_along(1, block), optimizer)


class DynamicLinear(DynamicLayer):
    """A dense layer ``y = x W^T + b`` with a resizable number of inputs and units."""

    def __init__(
        self, n_inputs: int, n_units: int, generator: torch.Generator | None = None
    ) -> None:
        weight = lecun_normal((n_units, n_inputs), n_inputs, generator)
        super().__init__(weight, torch.zeros(n_units))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in) -> (N, out)``."""
        return F.linear(x, self.weight, self.bias)


class DynamicConv2d(DynamicLayer):
    """A ``kernel x kernel`` convolution with ``padding`` and ``stride``; channels resizable."""

    def __init__(
        self,
        n_inputs: int,
        n_units: int,
        *,
        kernel: int = 3,
        stride: int = 1,
        padding: int = 1,
        generator: torch.Generator | None = None,
    ) -> None:
        fan_in = n_inputs * kernel * kernel
        weight = lecun_normal((n_units, n_inputs, kernel, kernel), fan_in, generator)
        super().__init__(weight, torch.zeros(n_units))
        self.kernel = kernel
        self.stride = stride
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in, H, W) -> (N, out, H', W')``."""
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def output_hw(self, h: int, w: int) -> tuple[int, int]:
        """Spatial size of the output for an ``h x w`` input."""

        def size(n: int) -> int:
            return (n + 2 * self.padding - self.kernel) // self.stride + 1

        return size(h), size(w)
