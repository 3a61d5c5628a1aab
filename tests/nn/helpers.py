"""Small builders shared by the nn tests."""

from __future__ import annotations

import torch

from dynas_service.nn import ArchitectureSpec, DynamicNet, build_model, default_spec


def mlp_spec(
    sizes: tuple[int, ...] = (12, 10, 8), n_in: int = 6, n_out: int = 3
) -> ArchitectureSpec:
    """A small classification mlp spec."""
    return ArchitectureSpec("mlp", (n_in,), n_out, "classification", sizes, (0.0,) * len(sizes))


def cnn_spec(sizes: tuple[int, ...] = (6, 5, 4, 7, 9)) -> ArchitectureSpec:
    """A small cnn on 1x8x8 inputs (conv -> flatten -> dense), no dropout."""
    return default_spec(
        "cnn", (1, 8, 8), 4, "classification", hidden_layers=len(sizes), dropout=0.0
    ).with_hidden_sizes(sizes)


def make(spec: ArchitectureSpec, seed: int = 0, double: bool = False) -> DynamicNet:
    """A CPU model with non-trivial standardization buffers."""
    g = torch.Generator().manual_seed(seed)
    mean = torch.randn(spec.input_shape, generator=g)
    std = torch.rand(spec.input_shape, generator=g) + 0.5
    model = build_model(spec, input_mean=mean, input_std=std, generator=g, device="cpu")
    return model.double() if double else model


def kill_units(model: DynamicNet, layer: int, units: list[int]) -> None:
    """Make ``units`` of hidden layer ``layer`` exactly dead: zero incoming, bias, outgoing."""
    hidden = model.hidden_layers
    nxt = [*hidden, model.output_layer][layer + 1]
    per = model.inputs_per_unit(layer)
    cols = [u * per + k for u in units for k in range(per)]
    with torch.no_grad():
        hidden[layer].weight[units] = 0
        hidden[layer].bias[units] = 0
        nxt.weight[:, cols] = 0


def batches(
    spec: ArchitectureSpec, n: int, seed: int = 1, size: int = 16
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Random (x, y) classification batches."""
    g = torch.Generator().manual_seed(seed)
    return [
        (
            torch.randn(size, *spec.input_shape, generator=g),
            torch.randint(0, spec.n_outputs, (size,), generator=g),
        )
        for _ in range(n)
    ]
