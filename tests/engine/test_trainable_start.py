"""Where a trial's model starts: a clone from its source's exact weights and sizes, a fresh
individual from scratch. Runs the trainable's start rule outside Tune (no session, so
Tune's own checkpoint is absent)."""

from __future__ import annotations

from pathlib import Path

import torch

from dynas_service.engine.run import load_training_data
from dynas_service.engine.state import snapshot_checkpoint
from dynas_service.engine.trainable import _start, read_engine_meta
from dynas_service.nn import save_checkpoint

HP = {"learning_rate": 4e-4, "batch_size": 32, "reg_strength": 1e-3}


def _config(**extra: object) -> dict:
    return {"individual_id": "child", "hyperparameters": HP, "seed": 5, "source": None, **extra}


def test_clone_starts_from_its_parents_weights_and_sizes(make_request, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = load_training_data(make_request("evolution"))
    parent, optimizer, _ = _start(_config(individual_id="parent"), data, torch.device("cpu"))
    grown = parent.spec.with_hidden_sizes([13, 5])  # sizes unlike the config's 8 units
    from dynas_service.nn import build_model, make_optimizer

    parent = build_model(grown, generator=torch.Generator().manual_seed(1), device="cpu")
    optimizer = make_optimizer(parent, 1e-3)
    save_checkpoint(tmp_path / "ck", parent, optimizer, {})
    (tmp_path / "ck" / "engine.json").write_text('{"individual_id": "parent", "age": 7}')

    class _Local:  # the shape of a Tune checkpoint the snapshot helper needs
        path = str(tmp_path / "ck")

    source = snapshot_checkpoint(_Local(), tmp_path / "snapshots" / "parent-a7")
    child, _, meta = _start(_config(source=source, origin="clone"), data, torch.device("cpu"))
    assert child.layer_sizes() == [13, 5]
    assert meta["age"] == 7 and read_engine_meta(source)["individual_id"] == "parent"
    for name, tensor in parent.state_dict().items():
        assert torch.equal(tensor, child.state_dict()[name]), name


def test_fresh_individuals_start_from_scratch(make_request) -> None:  # type: ignore[no-untyped-def]
    data = load_training_data(make_request("evolution"))
    first, _, meta = _start(_config(), data, torch.device("cpu"))
    again, _, _ = _start(_config(), data, torch.device("cpu"))
    other, _, _ = _start(_config(seed=6), data, torch.device("cpu"))
    assert meta == {} and first.layer_sizes() == [8, 8]
    weights = next(iter(first.state_dict()))
    assert torch.equal(first.state_dict()[weights], again.state_dict()[weights])
    assert not all(torch.equal(t, other.state_dict()[n]) for n, t in first.state_dict().items()
                   if t.dtype.is_floating_point and t.numel() > 8)
