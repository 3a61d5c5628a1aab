"""Network-level grow and prune of dynamic auto-sizing (Algorithm 2).

Both walk the layers first to last and keep each layer's input width equal to the
previous layer's output width. The output layer never grows or prunes its own units, but
its input side follows the last hidden layer. Optimizer state follows the parameters
(``settings.optimizer_state == "carry"``) or is zeroed at each surgery (``"reset"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from dynas_service.nn.spec import DynamicSettings
from dynas_service.nn.surgery.optimizer_state import reset_moments

if TYPE_CHECKING:
    from dynas_service.nn.model import DynamicNet


def grow(
    model: DynamicNet,
    optimizer: torch.optim.Optimizer | None,
    settings: DynamicSettings,
    generator: torch.Generator | None = None,
) -> list[int]:
    """Add ``settings.growth(n)`` units to every hidden layer; return the units added.

    New incoming weights are LeCun-normal * tau with zero bias; the next layer gets new
    input columns LeCun-normal (of its enlarged fan-in) * tau, appended after the existing
    ones (for conv -> dense: ``n_new * H * W`` columns, channel-major).
    """
    added: list[int] = []
    n_new_inputs = 0
    layers = [*model.hidden_layers, model.output_layer]
    for index, layer in enumerate(layers):
        if n_new_inputs:
            layer.grow_inputs(n_new_inputs, settings.tau, optimizer, generator)
        if index == len(layers) - 1:
            break
        n_new = settings.growth(layer.n_units)
        if n_new:
            layer.grow_units(n_new, settings.tau, optimizer, generator)
        added.append(n_new)
        n_new_inputs = n_new * model.inputs_per_unit(index)
    _after_surgery(optimizer, settings)
    return added


def prune(
    model: DynamicNet, optimizer: torch.optim.Optimizer | None, settings: DynamicSettings
) -> list[int]:
    """Remove dead units of every hidden layer; return the units removed per layer.

    A unit is dead when all its incoming weights and its bias are below ``tau`` in absolute
    value, checked after the columns of already-pruned predecessors were removed. Its
    outgoing columns in the next layer go with it. A layer keeps at least its strongest unit,
    so the network never loses its path from input to output.
    """
    removed: list[int] = []
    keep_inputs: torch.Tensor | None = None
    layers = [*model.hidden_layers, model.output_layer]
    for index, layer in enumerate(layers):
        if keep_inputs is not None:
            layer.keep_inputs(keep_inputs, optimizer)
            keep_inputs = None
        if index == len(layers) - 1:
            break
        keep = layer.active_units(settings.tau)
        if keep.numel() == 0:
            keep = layer.unit_rows().detach().abs().amax(dim=1).argmax().reshape(1)
        n_removed = layer.n_units - keep.numel()
        removed.append(n_removed)
        if n_removed:
            layer.keep_units(keep, optimizer)
            keep_inputs = _expand_to_columns(keep, model.inputs_per_unit(index))
    _after_surgery(optimizer, settings)
    return removed


def _expand_to_columns(units: torch.Tensor, per_unit: int) -> torch.Tensor:
    """Unit indices -> next-layer input columns; unit c owns ``c*per_unit .. +per_unit-1``."""
    if per_unit == 1:
        return units
    offsets = torch.arange(per_unit, device=units.device)
    return (units.reshape(-1, 1) * per_unit + offsets).flatten()


def _after_surgery(optimizer: torch.optim.Optimizer | None, settings: DynamicSettings) -> None:
    if optimizer is not None and settings.optimizer_state == "reset":
        reset_moments(optimizer)
