"""Epochs: end-to-end on digits, determinism, evaluation, argument checks."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.datasets import load_digits

from dynas_service.nn import (
    DynamicSettings,
    build_model,
    default_spec,
    evaluate,
    fit_epoch,
    input_statistics,
    make_optimizer,
    set_learning_rate,
    target_statistics,
    train_epoch,
)
from tests.nn.helpers import make, mlp_spec


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, ...]:
    data = load_digits()
    x = torch.tensor(data.data, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(data.target, dtype=torch.int64)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    train, val = order[:1400], order[1400:]
    return x[train], y[train], x[val], y[val]


def _run(family: str, digits, seed: int, epochs: int, lr: float = 2e-3, **kw):
    x_tr, y_tr, x_va, y_va = digits
    g = torch.Generator().manual_seed(seed)
    spec = default_spec(family, (1, 8, 8), 10, "classification", initial_units=20)
    mean, std = input_statistics(x_tr)
    model = build_model(spec, input_mean=mean, input_std=std, generator=g, device="cpu")
    opt = make_optimizer(model, lr)
    args = {"batch_size": 32, "reg_strength": 1e-4, "regularizer": "weighted_l1", "dynamic": True}
    args.update(kw)
    results = [
        fit_epoch(
            model, opt, x_tr, y_tr, x_va, y_va, settings=DynamicSettings(), generator=g, **args
        )
        for _ in range(epochs)
    ]
    return model, results


def test_dynamic_mlp_learns_digits(digits) -> None:
    model, results = _run("mlp", digits, seed=0, epochs=6)
    last = results[-1]
    assert last.metric_name == "accuracy" and last.higher_is_better
    assert last.val_metric >= 0.9
    assert last.layer_sizes == model.layer_sizes() and last.n_parameters == model.n_parameters()
    assert results[-1].train_loss < results[0].train_loss


def test_dynamic_cnn_learns_digits_and_changes_sizes(digits) -> None:
    model, results = _run("cnn", digits, seed=1, epochs=2)
    assert results[-1].val_metric >= 0.85
    assert model.layer_sizes() != [20] * 5  # grew (and possibly pruned)
    assert model.hidden_layers[4].n_inputs == model.layer_sizes()[3] * 4


def test_training_is_deterministic_for_a_seed(digits) -> None:
    a, ra = _run("cnn", digits, seed=5, epochs=1)
    b, rb = _run("cnn", digits, seed=5, epochs=1)
    _, rc = _run("cnn", digits, seed=6, epochs=1)
    assert ra[0].train_loss == rb[0].train_loss
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert ra[0].train_loss != rc[0].train_loss


def test_static_epoch_keeps_sizes(digits) -> None:
    model, _ = _run("mlp", digits, seed=0, epochs=2, dynamic=False, regularizer="none")
    assert model.layer_sizes() == [20] * 5


def test_evaluate_matches_hand_computation() -> None:
    model = make(mlp_spec((5,), n_in=2, n_out=3))
    x = torch.randn(50, 2)
    y = torch.randint(0, 3, (50,))
    out = model.eval()(x)
    metric, loss = evaluate(model, x, y, batch_size=7)
    assert metric == pytest.approx((out.argmax(1) == y).float().mean().item())
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(out, y).item(), rel=1e-5)


def test_regression_reports_rmse_in_target_units_and_learns() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(600, 4, generator=g)
    y = 20.0 + 3.0 * x[:, 0] - 2.0 * x[:, 1] * x[:, 2]
    spec = default_spec("mlp", (4,), 1, "regression", hidden_layers=2, initial_units=30)
    t_mean, t_std = target_statistics(y)
    model = build_model(spec, target_mean=t_mean, target_std=t_std, generator=g, device="cpu")
    out = model.eval()(x).reshape(-1)
    metric, loss = evaluate(model, x, y)
    assert metric == pytest.approx(math.sqrt(((out - y) ** 2).mean().item()), rel=1e-5)
    assert loss == pytest.approx(((out - y) ** 2).mean().item() / t_std**2, rel=1e-4)
    opt = make_optimizer(model, 3e-3)
    for _ in range(15):
        train_epoch(
            model,
            opt,
            x,
            y,
            batch_size=32,
            reg_strength=0.0,
            regularizer="none",
            dynamic=False,
            settings=DynamicSettings(),
            generator=g,
        )
    assert evaluate(model, x, y)[0] < 0.3 * t_std


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size=0"),
        ({"reg_strength": -1.0}, "reg_strength=-1.0"),
        ({"reg_strength": float("nan")}, "reg_strength=nan"),
        ({"regularizer": "l0"}, "regularizer='l0'"),
    ],
)
def test_bad_training_arguments_raise(kwargs: dict, message: str) -> None:
    model = make(mlp_spec())
    args = {"batch_size": 8, "reg_strength": 1e-3, "regularizer": "l1", "dynamic": True}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        train_epoch(
            model,
            make_optimizer(model, 1e-3),
            torch.randn(10, 6),
            torch.zeros(10, dtype=torch.int64),
            settings=DynamicSettings(),
            generator=torch.Generator(),
            **args,
        )


def test_mismatched_data_and_bad_learning_rates_raise() -> None:
    model = make(mlp_spec())
    with pytest.raises(ValueError, match="lengths"):
        evaluate(model, torch.randn(4, 6), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="lr=0"):
        make_optimizer(model, 0)
    opt = make_optimizer(model, 1e-3)
    set_learning_rate(opt, 5e-4)
    assert opt.param_groups[0]["lr"] == 5e-4
    with pytest.raises(ValueError, match="lr=-1"):
        set_learning_rate(opt, -1)


def test_input_statistics_guard_constant_features(digits) -> None:
    x_tr = digits[0]
    mean, std = input_statistics(x_tr)
    assert mean.shape == (1, 8, 8) and bool((std > 0).all())
    assert std[0, 0, 0].item() == 1.0  # the corner pixel of digits is always 0
    flat = default_spec("mlp", (64,), 10, "classification")
    model = build_model(flat, input_mean=mean, input_std=std, device="cpu")
    assert model.input_mean.shape == (64,)
    with pytest.raises(ValueError, match="input_std"):
        build_model(flat, input_std=torch.ones(3), device="cpu")
