"""The dynamic network: standardization buffers, hidden dynamic layers, a fixed-size output.

``DynamicNet`` is the container that keeps neighbours consistent: :func:`grow` and
:func:`prune` (in :mod:`dynas_service.nn.surgery.grow_prune`) walk ``layers`` and resize
each layer's input side to the previous layer's output, including conv -> flatten ->
dense where one channel owns ``H * W`` consecutive flattened columns (NCHW flatten is
channel-major).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dynas_service.nn.layers import DynamicConv2d, DynamicLayer, DynamicLinear
from dynas_service.nn.spec import ArchitectureSpec


class DynamicNet(nn.Module):
    """A dynamic auto-sizing mlp or cnn that takes *raw* inputs.

    ``forward(x_raw)``: ``(N, *input_shape) -> (N, n_outputs)`` logits (classification) or
    regression values in target units. Inputs are standardized with the buffers
    ``input_mean``/``input_std`` (shape ``input_shape``); regression outputs are mapped back
    with ``target_mean``/``target_std``. SELU after every hidden layer, then dropout.

    ``dropout_generator``: when set (the training loop sets it), dropout masks are drawn from
    it so that training is reproducible from an injected seed.
    """

    input_mean: torch.Tensor
    input_std: torch.Tensor
    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(
        self,
        spec: ArchitectureSpec,
        *,
        input_mean: torch.Tensor,
        input_std: torch.Tensor,
        target_mean: float = 0.0,
        target_std: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self._family = spec.family
        self._task = spec.task
        self._input_shape = spec.input_shape
        self._n_outputs = spec.n_outputs
        self._dropout = spec.dropout
        self.n_conv = spec.n_conv
        self.register_buffer("input_mean", input_mean.reshape(spec.input_shape).float().clone())
        self.register_buffer("input_std", input_std.reshape(spec.input_shape).float().clone())
        self.register_buffer("target_mean", torch.tensor(float(target_mean)))
        self.register_buffer("target_std", torch.tensor(float(target_std)))
        self.layers = nn.ModuleList(_build_layers(spec, generator))
        # Surgery resizes layers in place and never replaces them, so this list stays valid.
        self._hidden: list[DynamicLayer] = [self._layer(i) for i in range(len(self.layers) - 1)]
        self.conv_output_hw = _conv_output_hw(self.layers, spec)
        self.dropout_generator: torch.Generator | None = None

    # ------------------------------------------------------------------ description
    @property
    def spec(self) -> ArchitectureSpec:
        """The architecture with the *current* hidden sizes."""
        return ArchitectureSpec(
            self._family,
            self._input_shape,
            self._n_outputs,
            self._task,
            tuple(self.layer_sizes()),
            self._dropout,
        )

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self._task

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one raw input sample."""
        return self._input_shape

    @property
    def hidden_layers(self) -> list[DynamicLayer]:
        """The hidden (growable, prunable, regularized) layers, in order."""
        return list(self._hidden)

    @property
    def output_layer(self) -> DynamicLinear:
        """The fixed-size output layer (its input side follows the last hidden layer)."""
        layer = self.layers[-1]
        assert isinstance(layer, DynamicLinear)
        return layer

    def layer_sizes(self) -> list[int]:
        """Current hidden sizes (units or channels)."""
        return [layer.n_units for layer in self.hidden_layers]

    def n_parameters(self) -> int:
        """Number of trainable scalars."""
        return sum(p.numel() for p in self.parameters())

    def inputs_per_unit(self, index: int) -> int:
        """How many input columns of layer ``index + 1`` one unit of layer ``index`` feeds."""
        if index == self.n_conv - 1:
            return self.conv_output_hw[0] * self.conv_output_hw[1]
        return 1

    def _layer(self, index: int) -> DynamicLayer:
        layer = self.layers[index]
        assert isinstance(layer, DynamicLayer)
        return layer

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, *input_shape)`` raw inputs -> ``(N, n_outputs)``."""
        x = (x.reshape(x.shape[0], *self._input_shape) - self.input_mean) / self.input_std
        if self.n_conv == 0:
            x = x.flatten(1)
        for i, layer in enumerate(self._hidden):
            if i == self.n_conv and i > 0:
                x = x.flatten(1)
            x = self._dropout_after(F.selu(layer(x)), self._dropout[i])
        out = self.output_layer(x)
        if self._task == "regression":
            out = out * self.target_std + self.target_mean
        return out

    def _dropout_after(self, x: torch.Tensor, p: float) -> torch.Tensor:
        if p == 0.0 or not self.training:
            return x
        if self.dropout_generator is None:
            return F.dropout(x, p, training=True)
        keep = torch.empty_like(x).bernoulli_(1.0 - p, generator=self.dropout_generator)
        return x * keep / (1.0 - p)


def _build_layers(spec: ArchitectureSpec, generator: torch.Generator | None) -> list[nn.Module]:
    layers: list[nn.Module] = []
    if spec.family == "cnn":
        channels, h, w = spec.input_shape
        for i in range(spec.n_conv):
            conv = DynamicConv2d(
                channels, spec.hidden_sizes[i], stride=1 + i % 2, generator=generator
            )
            layers.append(conv)
            channels, (h, w) = spec.hidden_sizes[i], conv.output_hw(h, w)
        width = channels * h * w
    else:
        width = 1
        for v in spec.input_shape:
            width *= v
    for units in spec.hidden_sizes[spec.n_conv :]:
        layers.append(DynamicLinear(width, units, generator))
        width = units
    layers.append(DynamicLinear(width, spec.n_outputs, generator))
    return layers


def _conv_output_hw(layers: nn.ModuleList, spec: ArchitectureSpec) -> tuple[int, int]:
    if spec.family != "cnn":
        return (1, 1)
    h, w = spec.input_shape[1], spec.input_shape[2]
    for layer in layers:
        if isinstance(layer, DynamicConv2d):
            h, w = layer.output_hw(h, w)
    return (h, w)
