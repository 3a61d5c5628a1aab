"""Penalties against hand computation; the .grad shortcut against autograd."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dynas_service.nn import PenaltyGradient, penalty
from tests.nn.helpers import cnn_spec, make, mlp_spec


def _hand_set(model: torch.nn.Module) -> None:
    """Layer 0: 2 units x 3 inputs with known values; other hidden layers zero."""
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        layer = model.hidden_layers[0]
        layer.weight[0] = torch.tensor([1.0, -2.0, 0.5])
        layer.bias[0] = -1.0
        layer.weight[1] = torch.tensor([0.0, 3.0, -4.0])
        layer.bias[1] = 0.0
        model.output_layer.weight.fill_(100.0)  # never regularized


@pytest.mark.parametrize(
    ("regularizer", "expected"),
    [
        # unit 1: |1|+|-2|+|.5|+|-1| = 4.5; unit 2: 0+3+4+0 = 7
        ("weighted_l1", 0.1 * (1 * 4.5 + 2 * 7.0)),
        ("l1", 0.1 * (4.5 + 7.0)),
        ("l21", 0.1 * ((1 + 4 + 0.25 + 1) ** 0.5 + (9 + 16) ** 0.5)),
        ("none", 0.0),
    ],
)
def test_penalty_matches_hand_computation(regularizer: str, expected: float) -> None:
    model = make(mlp_spec((2, 4), n_in=3))
    _hand_set(model)
    assert penalty(model, regularizer, 0.1).item() == pytest.approx(expected, rel=1e-6)
    assert PenaltyGradient(model, regularizer, 0.1).value() == pytest.approx(expected, rel=1e-6)
    with PenaltyGradient(model, regularizer, 0.1) as entered:
        assert entered.value() == pytest.approx(expected, rel=1e-6)


def test_weighted_l1_counts_conv_filters_and_unit_index() -> None:
    model = make(cnn_spec((2, 2, 2, 2, 3)))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.hidden_layers[1].weight[1].fill_(0.5)  # unit j=2: 2 inputs x 3 x 3 weights
        model.hidden_layers[1].bias[1] = 1.0
    expected = 1e-2 * 2 * (18 * 0.5 + 1.0)
    assert penalty(model, "weighted_l1", 1e-2).item() == pytest.approx(expected)


@pytest.mark.parametrize("regularizer", ["weighted_l1", "l1", "l21"])
@pytest.mark.parametrize("spec", [mlp_spec(), cnn_spec()], ids=["mlp", "cnn"])
def test_gradient_shortcut_equals_autograd_of_the_penalty(regularizer: str, spec) -> None:
    model = make(spec, double=True)
    with torch.no_grad():
        model.hidden_layers[0].weight[0, 0] = 0.0  # sign(0) = 0 in both
    model.zero_grad()
    penalty(model, regularizer, 0.3).backward()
    expected = [
        torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in model.parameters()
    ]
    model.zero_grad(set_to_none=True)
    with PenaltyGradient(model, regularizer, 0.3) as shortcut:
        shortcut.add_to_grad()
    for p, g in zip(model.parameters(), expected, strict=True):
        actual = p.grad if p.grad is not None else torch.zeros_like(p)
        torch.testing.assert_close(actual, g, rtol=1e-12, atol=1e-12)
    assert model.output_layer.weight.grad is None or not model.output_layer.weight.grad.any()


def test_bad_regularizer_arguments_raise() -> None:
    model = make(mlp_spec())
    with pytest.raises(ValueError, match="regularizer='l3'"):
        penalty(model, "l3", 0.1)
    with pytest.raises(ValueError, match="reg_strength=-1"):
        PenaltyGradient(model, "l1", -1.0)


def test_entering_shares_one_buffer_and_leaving_gives_each_parameter_its_own() -> None:
    """While entered, the hidden parameters are views of one buffer (what lets the sign
    be one operation); the fit's in-place updates land in the model; after leaving, no
    two parameters share storage (a checkpoint writer such as safetensors refuses that)
    and values, shapes and the optimizer's state keys are what they were."""
    model = make(mlp_spec())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    ids = [id(p) for p in model.parameters()]
    hidden = [p for layer in model.hidden_layers for p in (layer.weight, layer.bias)]
    with PenaltyGradient(model, "weighted_l1", 0.1) as shortcut:
        storages = {p.untyped_storage().data_ptr() for p in hidden}
        assert len(storages) == 1
        for name, p in model.named_parameters():
            torch.testing.assert_close(p.detach(), before[name], rtol=0, atol=0)
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(torch.randn(8, 6)), torch.randint(0, 3, (8,))).backward()
        shortcut.add_to_grad()
        opt.step()
        stepped = {name: p.detach().clone() for name, p in model.named_parameters()}
        assert shortcut.value() == pytest.approx(float(penalty(model, "weighted_l1", 0.1)))
    assert not torch.equal(stepped["layers.0.weight"], before["layers.0.weight"])
    storages = [p.untyped_storage().data_ptr() for p in model.parameters()]
    assert len(set(storages)) == len(storages)
    assert [id(p) for p in model.parameters()] == ids
    assert set(opt.state) == set(model.parameters())
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), stepped[name], rtol=0, atol=0)


def test_add_to_grad_outside_the_context_raises() -> None:
    model = make(mlp_spec())
    with pytest.raises(RuntimeError, match="context manager"):
        PenaltyGradient(model, "l1", 0.1).add_to_grad()
    PenaltyGradient(model, "none", 0.1).add_to_grad()  # nothing to add, nothing to check
