"""Export a dynamic model as a plain static PyTorch model, TorchScript or ONNX.

The static model is a :class:`StaticNet` (an ``nn.Sequential``) of standard layers at the
discovered sizes: ``nn.Linear``, ``nn.Conv2d``, ``nn.SELU``, ``nn.Flatten`` and, for a cnn,
a :class:`Standardize` affine op first (folding per-pixel standardization into a padded
conv would not be exact at the borders). For an mlp the input standardization is folded
into the first ``nn.Linear``; for regression the target de-standardization is folded into
the last one. Dropout is dropped (eval mode). Its outputs equal the dynamic model's eval
outputs up to float rounding.
"""

import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from dynas_service.nn.layers import DynamicConv2d, DynamicLayer, DynamicLinear
from dynas_service.nn.model import DynamicNet

_log = logging.getLogger(__name__)


class Standardize(nn.Module):
    """``x -> (x.reshape(N, *shape) - mean) / std`` with buffers ``mean``/``std`` of ``shape``."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.shape: list[int] = [int(v) for v in mean.shape]
        self.register_buffer("mean", mean.detach().clone())
        self.register_buffer("std", std.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw inputs -> standardized inputs of shape ``(N, *shape)``."""
        # TorchScript cannot script a starred list display, hence the concatenation.
        return (x.reshape([x.shape[0]] + self.shape) - self.mean) / self.std  # noqa: RUF005


class StaticNet(nn.Sequential):
    """A plain sequential model with two plain attributes: ``task`` and ``input_shape``."""

    def __init__(self, modules: list[nn.Module], task: str, input_shape: list[int]) -> None:
        super().__init__(*modules)
        self.task = task
        self.input_shape = input_shape


def export_static(model: DynamicNet) -> StaticNet:
    """A :class:`StaticNet` on the CPU computing ``model``'s eval-mode function."""
    layers = [*model.hidden_layers, model.output_layer]
    modules: list[nn.Module] = []
    mean = model.input_mean.detach().cpu()
    std = model.input_std.detach().cpu()
    if model.n_conv == 0:
        modules.append(nn.Flatten())
    else:
        modules.append(Standardize(mean, std))
    for index, layer in enumerate(layers):
        if index == model.n_conv and index > 0:
            modules.append(nn.Flatten())
        plain = _plain_layer(layer)
        if index == 0 and model.n_conv == 0:
            _fold_input_standardization(plain, mean.flatten(), std.flatten())
        modules.append(plain)
        if index < len(layers) - 1:
            modules.append(nn.SELU())
    if model.task == "regression":
        _fold_target_scale(modules[-1], float(model.target_mean), float(model.target_std))
    static = StaticNet(modules, model.task, list(model.input_shape))
    return static.eval()


def _plain_layer(layer: DynamicLayer) -> nn.Module:
    weight = layer.weight.detach().cpu().clone()
    bias = layer.bias.detach().cpu().clone()
    plain: nn.Linear | nn.Conv2d
    if isinstance(layer, DynamicConv2d):
        plain = nn.Conv2d(
            layer.n_inputs, layer.n_units, layer.kernel, stride=layer.stride, padding=layer.padding
        )
    elif isinstance(layer, DynamicLinear):
        plain = nn.Linear(layer.n_inputs, layer.n_units)
    else:
        raise TypeError(f"cannot export layer type {type(layer).__name__}")
    with torch.no_grad():
        plain.weight.copy_(weight)
        plain.bias.copy_(bias)  # type: ignore[union-attr]
    return plain


def _fold_input_standardization(layer: nn.Module, mean: torch.Tensor, std: torch.Tensor) -> None:
    """``W((x - m) / s) + b = (W / s) x + (b - (W / s) m)``."""
    assert isinstance(layer, nn.Linear)
    with torch.no_grad():
        layer.weight.div_(std)
        layer.bias.sub_(layer.weight @ mean)


def _fold_target_scale(layer: nn.Module, mean: float, std: float) -> None:
    assert isinstance(layer, nn.Linear)
    with torch.no_grad():
        layer.weight.mul_(std)
        layer.bias.mul_(std).add_(mean)


def save_torchscript(model: DynamicNet | StaticNet, path: str | Path) -> None:
    """Save the static export as TorchScript; ``torch.jit.load(path)`` alone loads it."""
    static = model if isinstance(model, StaticNet) else export_static(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(static).save(str(path))


def save_onnx(model: DynamicNet | StaticNet, path: str | Path) -> bool:
    """Save the static export as ONNX (dynamic batch axis); False if the exporter failed."""
    static = model if isinstance(model, StaticNet) else export_static(model)
    example = torch.zeros(2, *static.input_shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                static,
                (example,),
                str(path),
                input_names=["input"],
                output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                dynamo=False,
            )
    except Exception as exc:  # the exporter's failures are many and version-specific
        _log.warning("ONNX export failed: %s", exc)
        Path(path).unlink(missing_ok=True)
        return False
    return True
