"""Surgery equivalences: prune of dead units, grow bound, Adam state through grow + prune."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dynas_service.nn import (
    DynamicNet,
    DynamicSettings,
    PenaltyGradient,
    grow,
    make_optimizer,
    prune,
)
from tests.nn.helpers import batches, cnn_spec, kill_units, make, mlp_spec

SELU_LIPSCHITZ = 1.0507009873554805 * 1.6732632423543772  # max slope of SELU (lambda * alpha)


def _step(model: DynamicNet, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    with PenaltyGradient(model, "l1", 1e-4) as penalty:
        penalty.add_to_grad()
        opt.step()


def test_prune_of_dead_units_leaves_outputs_identical() -> None:
    """Identical up to the summation order BLAS picks for the shorter dot products: the
    removed terms are exact zeros, so float64 outputs agree to the last few ulps."""
    model = make(mlp_spec((12, 10, 8)), double=True).eval()
    kill_units(model, 0, [1, 4, 7])
    kill_units(model, 2, [0, 7])
    x = torch.randn(64, 6, dtype=torch.float64)
    before = model(x)
    removed = prune(model, None, DynamicSettings())
    assert removed == [3, 0, 2]
    assert model.layer_sizes() == [9, 10, 6]
    torch.testing.assert_close(model(x), before, rtol=0, atol=1e-13)


def test_prune_of_dead_channels_keeps_cnn_outputs_and_dense_width() -> None:
    model = make(cnn_spec()).eval()
    kill_units(model, 3, [0, 5])  # last conv: its channels feed H*W columns each
    kill_units(model, 1, [2])
    x = torch.randn(8, 1, 8, 8)
    before = model(x)
    prune(model, None, DynamicSettings())
    assert model.layer_sizes() == [6, 4, 4, 5, 9]
    h, w = model.conv_output_hw
    assert model.hidden_layers[4].n_inputs == 5 * h * w
    torch.testing.assert_close(model(x), before, rtol=0, atol=1e-6)


def test_prune_checks_units_after_removing_pruned_inputs() -> None:
    model = make(mlp_spec((4, 3)))
    with torch.no_grad():
        model.hidden_layers[0].weight[2] = 0
        model.hidden_layers[0].bias[2] = 0
        # Unit 1 of layer 1 is alive only through the column of the pruned unit 2.
        model.hidden_layers[1].weight[1] = 0
        model.hidden_layers[1].bias[1] = 0
        model.hidden_layers[1].weight[1, 2] = 0.5
    assert prune(model, None, DynamicSettings()) == [1, 1]


def test_prune_keeps_the_strongest_unit_of_a_dead_layer() -> None:
    model = make(mlp_spec((5, 4)))
    with torch.no_grad():
        model.hidden_layers[1].weight.mul_(1e-5)
        model.hidden_layers[1].bias.zero_()
        model.hidden_layers[1].weight[2, 0] = 5e-4
    prune(model, None, DynamicSettings())
    assert model.layer_sizes() == [5, 1]
    assert model.hidden_layers[1].weight[0, 0].item() == torch.tensor(5e-4).item()


def _grow_bound(old: DynamicNet, new: DynamicNet, x: torch.Tensor) -> float:
    """A rigorous bound on max |new(x) - old(x)| for an mlp after one grow.

    Per layer, with A = old->old block (unchanged), B = new inputs -> old units (tau-scaled),
    R = incoming rows of new units (tau-scaled), M = max |old activation|:
    e_l = L (|A|_inf e_{l-1} + |B|_inf n_{l-1})           change of old activations
    n_l = L (|R_old|_inf (M_{l-1} + e_{l-1}) + |R_new|_inf n_{l-1})   size of new activations
    with L the SELU Lipschitz constant (and SELU(0) = 0). Since B and R are O(tau), n_l is
    O(tau) and the output change e_out is O(tau^2).
    """
    e, n = 0.0, 0.0
    h = (x - old.input_mean) / old.input_std
    layers_old = [*old.hidden_layers, old.output_layer]
    layers_new = [*new.hidden_layers, new.output_layer]
    for index, (lo, ln) in enumerate(zip(layers_old, layers_new, strict=True)):
        out_old, in_old = lo.weight.shape
        w = ln.weight.detach().abs()
        a_norm = w[:out_old, :in_old].sum(1).max().item()
        b_norm = w[:out_old, in_old:].sum(1).max().item() if w.shape[1] > in_old else 0.0
        m = h.abs().max().item()
        last = index == len(layers_old) - 1
        slope = 1.0 if last else SELU_LIPSCHITZ
        e_next = slope * (a_norm * e + b_norm * n)
        if not last and w.shape[0] > out_old:
            r_old = w[out_old:, :in_old].sum(1).max().item()
            r_new = w[out_old:, in_old:].sum(1).max().item() if w.shape[1] > in_old else 0.0
            n = slope * (r_old * (m + e) + r_new * n)
        e = e_next
        h = F.selu(lo(h)) if not last else h
    return e


def test_grow_changes_outputs_by_at_most_the_tau_bound() -> None:
    changes, bounds = {}, {}
    for tau in (1e-3, 1e-2):
        old = make(mlp_spec((12, 10, 8)), double=True).eval()
        new = make(mlp_spec((12, 10, 8)), double=True).eval()
        settings = DynamicSettings(tau=tau)
        grow(new, None, settings, torch.Generator().manual_seed(3))
        assert new.layer_sizes() == [32, 30, 28]
        x = torch.randn(256, 6, dtype=torch.float64)
        change = (new(x) - old(x)).abs().max().item()
        bound = _grow_bound(old, new, x)
        assert change <= bound
        changes[tau], bounds[tau] = change, bound
    # both second order in tau: ten times tau, about a hundred times the change and bound
    assert 50 < changes[1e-2] / changes[1e-3] < 200
    assert 50 < bounds[1e-2] / bounds[1e-3] < 200
    assert changes[1e-3] < 1e-4


def test_grow_cnn_keeps_widths_consistent_and_output_close() -> None:
    model = make(cnn_spec()).eval()
    x = torch.randn(8, 1, 8, 8)
    before = model(x)
    added = grow(model, None, DynamicSettings(), torch.Generator().manual_seed(0))
    assert added == [20] * 5
    h, w = model.conv_output_hw
    assert model.hidden_layers[4].n_inputs == 27 * h * w
    assert model.output_layer.n_inputs == 29
    assert (model(x) - before).abs().max().item() < 1e-4


def _embed(small: DynamicNet, big: DynamicNet) -> None:
    """Copy small's parameters into the leading block of big; zero the rest."""
    with torch.no_grad():
        for ps, pb in zip(small.parameters(), big.parameters(), strict=True):
            pb.zero_()
            pb[tuple(slice(0, n) for n in ps.shape)] = ps


def _copy_new_units(grown: DynamicNet, big: DynamicNet, old_sizes: list[int]) -> None:
    """Give big's preallocated (dead) units the values grow gave grown's new units."""
    with torch.no_grad():
        for lg, lb, n_old in zip(grown.hidden_layers, big.hidden_layers, old_sizes, strict=True):
            lb.weight[n_old:] = lg.weight[n_old:]
        for index, (lg, lb) in enumerate(
            zip(
                [*grown.hidden_layers, grown.output_layer][1:],
                [*big.hidden_layers, big.output_layer][1:],
                strict=True,
            )
        ):
            lb.weight[:, old_sizes[index] :] = lg.weight[:, old_sizes[index] :]


def test_adam_moments_follow_their_parameters_through_grow_and_prune() -> None:
    """A dynamic run (grow, prune with carried Adam state) equals a preallocated static run
    whose future units are dead (zero parameters, zero moments) until grow fills them."""
    settings = DynamicSettings(min_growth=3, growth_fraction=0.0)
    small = make(mlp_spec((8, 7)), double=True)
    dead = [1, 5]
    kill_units(small, 0, dead)
    big = make(mlp_spec((11, 10)), double=True)
    _embed(small, big)
    opt_s, opt_b = make_optimizer(small, 1e-2), make_optimizer(big, 1e-2)
    data = batches(small.spec, 15)
    for x, y in data[:5]:
        _step(small, opt_s, x.double(), y)
        _step(big, opt_b, x.double(), y)
    grow(small, opt_s, settings, torch.Generator().manual_seed(7))
    with torch.no_grad():  # keep the dead units dead: grow gave them outgoing weights
        small.hidden_layers[1].weight[:, dead] = 0
    _copy_new_units(small, big, [8, 7])
    for x, y in data[5:10]:
        _step(small, opt_s, x.double(), y)
        _step(big, opt_b, x.double(), y)
    assert prune(small, opt_s, settings) == [2, 0]
    for x, y in data[10:]:
        _step(small, opt_s, x.double(), y)
        _step(big, opt_b, x.double(), y)
    alive = torch.tensor([u for u in range(11) if u not in dead])
    pairs = [
        (small.hidden_layers[0].weight, big.hidden_layers[0].weight[alive]),
        (small.hidden_layers[0].bias, big.hidden_layers[0].bias[alive]),
        (small.hidden_layers[1].weight, big.hidden_layers[1].weight[:, alive]),
        (small.output_layer.weight, big.output_layer.weight),
    ]
    for ps, pb in pairs:
        torch.testing.assert_close(ps, pb, rtol=0, atol=1e-10)
    sa, sb = opt_s.state[small.hidden_layers[0].weight], opt_b.state[big.hidden_layers[0].weight]
    torch.testing.assert_close(sa["exp_avg"], sb["exp_avg"][alive], rtol=0, atol=1e-12)
    torch.testing.assert_close(sa["exp_avg_sq"], sb["exp_avg_sq"][alive], rtol=0, atol=1e-12)
    assert float(sa["step"]) == float(sb["step"]) == 15


def test_recreating_adam_breaks_the_equivalence() -> None:
    """Control for the test above: losing the moments at surgery changes the trajectory."""
    small = make(mlp_spec((8, 7)), double=True)
    ref = make(mlp_spec((8, 7)), double=True)
    opt_s, opt_r = make_optimizer(small, 1e-2), make_optimizer(ref, 1e-2)
    data = batches(small.spec, 10)
    for x, y in data[:5]:
        _step(small, opt_s, x.double(), y)
        _step(ref, opt_r, x.double(), y)
    opt_s = make_optimizer(small, 1e-2)
    for x, y in data[5:]:
        _step(small, opt_s, x.double(), y)
        _step(ref, opt_r, x.double(), y)
    assert (small.output_layer.weight - ref.output_layer.weight).abs().max().item() > 1e-6


def test_state_shapes_match_parameters_after_cnn_surgery() -> None:
    model = make(cnn_spec())
    opt = make_optimizer(model, 1e-3)
    settings = DynamicSettings(min_growth=2)
    x, y = batches(model.spec, 1, size=4)[0]
    _step(model, opt, x, y)
    grow(model, opt, settings, torch.Generator().manual_seed(1))
    kill_units(model, 3, [0, 1])
    prune(model, opt, settings)
    _step(model, opt, x, y)
    for p in model.parameters():
        assert opt.state[p]["exp_avg"].shape == p.shape
        assert opt.state[p]["exp_avg_sq"].shape == p.shape


def test_reset_policy_zeroes_moments_and_keeps_step() -> None:
    model = make(mlp_spec())
    opt = make_optimizer(model, 1e-3)
    for x, y in batches(model.spec, 3):
        _step(model, opt, x, y)
    grow(model, opt, DynamicSettings(optimizer_state="reset"), torch.Generator().manual_seed(0))
    for p in model.parameters():
        assert float(opt.state[p]["step"]) == 3
        assert opt.state[p]["exp_avg"].abs().sum().item() == 0
        assert opt.state[p]["exp_avg_sq"].shape == p.shape
