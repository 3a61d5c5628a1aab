"""Checkpoints: sizes, weights, Adam state and extras survive a round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from dynas_service.nn import (
    DynamicSettings,
    load_checkpoint,
    load_checkpoint_model,
    make_optimizer,
    save_checkpoint,
    train_epoch,
)
from tests.nn.helpers import cnn_spec, make


def _epoch(model, opt, x, y, seed: int) -> float:
    return train_epoch(
        model,
        opt,
        x,
        y,
        batch_size=8,
        reg_strength=1e-4,
        regularizer="weighted_l1",
        dynamic=True,
        settings=DynamicSettings(min_growth=3),
        generator=torch.Generator().manual_seed(seed),
    )


def test_round_trip_restores_changed_sizes_weights_and_adam_state(tmp_path: Path) -> None:
    model = make(cnn_spec((4, 4, 4, 4, 5)))
    opt = make_optimizer(model, 1e-2)
    x, y = torch.randn(32, 1, 8, 8), torch.randint(0, 4, (32,))
    _epoch(model, opt, x, y, seed=0)
    assert model.layer_sizes() != [4, 4, 4, 4, 5]
    save_checkpoint(tmp_path / "ck", model, opt, {"epoch": 1, "note": "x"})
    restored, ropt, extra = load_checkpoint(tmp_path / "ck")
    assert extra == {"epoch": 1, "note": "x"}
    assert restored.spec == model.spec
    for (n1, t1), (n2, t2) in zip(
        model.state_dict().items(), restored.state_dict().items(), strict=True
    ):
        assert n1 == n2 and torch.equal(t1, t2)
    for p, q in zip(model.parameters(), restored.parameters(), strict=True):
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(opt.state[p][key], ropt.state[q][key])
    assert ropt.param_groups[0]["lr"] == 1e-2
    # continuing from the checkpoint equals continuing the original
    loss_a = _epoch(model, opt, x, y, seed=1)
    loss_b = _epoch(restored, ropt, x, y, seed=1)
    assert loss_a == loss_b
    assert all(
        torch.equal(p, q) for p, q in zip(model.parameters(), restored.parameters(), strict=True)
    )


def test_checkpoint_holds_no_pickle(tmp_path: Path) -> None:
    model = make(cnn_spec())
    save_checkpoint(tmp_path, model, make_optimizer(model, 1e-3), {})
    meta = json.loads((tmp_path / "checkpoint.json").read_text())
    assert meta["spec"]["hidden_sizes"] == [6, 5, 4, 7, 9]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint.json",
        "model.safetensors",
        "optimizer.safetensors",
    ]


def test_bad_checkpoints_and_extras_raise(tmp_path: Path) -> None:
    model = make(cnn_spec())
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(tmp_path, model, make_optimizer(model, 1e-3), {"f": object()})
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "checkpoint.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="dynas-checkpoint-v1"):
        load_checkpoint(tmp_path / "bad")


def test_model_only_load_needs_no_optimizer_state(tmp_path: Path) -> None:
    model = make(cnn_spec((4, 4, 4, 4, 5)))
    opt = make_optimizer(model, 1e-2)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 4, (16,))
    _epoch(model, opt, x, y, seed=0)
    save_checkpoint(tmp_path / "ck", model, opt, {})
    (tmp_path / "ck" / "optimizer.safetensors").unlink()  # a reader never touches it
    restored = load_checkpoint_model(tmp_path / "ck")
    assert restored.layer_sizes() == model.layer_sizes()
    model.eval()
    restored.eval()
    assert torch.equal(model(x), restored(x))
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint_model(tmp_path / "missing")
