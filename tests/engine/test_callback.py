"""The driver callback's checkpoint handling: the best is published from a checkpoint, and
a trial's superseded checkpoints are deleted (the engine's retention, instead of Tune's
``num_to_keep``)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import torch
from ray import tune

from dynas_service.engine import read_best
from dynas_service.engine.best import BestWriter
from dynas_service.engine.callback import EngineCallback, JobClock
from dynas_service.engine.trainable import ENGINE_FILE
from dynas_service.nn import build_model, default_spec, load_model, make_optimizer, save_checkpoint
from tests.engine.conftest import RecordingObserver


def _checkpoint(root: Path, name: str, value: float, epoch: int = 1) -> tune.Checkpoint:
    spec = default_spec("mlp", (4,), 3, "classification", hidden_layers=1, initial_units=5)
    model = build_model(spec, generator=torch.Generator().manual_seed(0))
    directory = root / name
    save_checkpoint(directory, model, make_optimizer(model, 1e-3), {})
    meta = {"individual_id": "ind-1", "parent_id": None, "epoch": epoch, "age": epoch,
            "reg_strength": 0.0, "value": value, "metric_name": "accuracy",
            "higher_is_better": True, "hyperparameters": {"learning_rate": 1e-3}}
    (directory / ENGINE_FILE).write_text(json.dumps(meta))
    return tune.Checkpoint.from_directory(str(directory))


def _report(callback: EngineCallback, trial_id: str, epoch: int, value: float) -> None:
    """The result Tune hands the callback for one epoch of individual ``ind-1``."""
    result = {"value": value, "individual_id": "ind-1", "parent_id": None, "origin": "fresh",
              "epoch": epoch, "age": epoch, "epoch_seconds": 0.1, "metric_name": "accuracy",
              "train_loss": 1.0, "val_loss": 1.0, "reg_strength": 0.0, "layer_sizes": [5],
              "n_parameters": 10}
    trial = SimpleNamespace(trial_id=trial_id, config={"hyperparameters": {}})
    callback.on_trial_result(epoch, [], trial, result)


def test_only_the_latest_checkpoint_of_a_trial_is_kept(tmp_path: Path) -> None:
    job = tmp_path / "job"
    observer = RecordingObserver()
    callback = EngineCallback(observer, BestWriter(job), JobClock())
    trial, other = SimpleNamespace(trial_id="t1"), SimpleNamespace(trial_id="t2")
    _report(callback, "t1", 1, 0.5)
    first = _checkpoint(tmp_path, "c1", 0.5)
    callback.on_checkpoint(1, [], trial, first)
    callback.on_checkpoint(1, [], trial, first)  # registered again: never deleted
    assert Path(first.path).is_dir()
    kept = _checkpoint(tmp_path, "c0", 0.4)
    callback.on_checkpoint(1, [], other, kept)
    second = _checkpoint(tmp_path, "c2", 0.3)
    callback.on_checkpoint(2, [], trial, second)
    assert not Path(first.path).exists()  # superseded
    assert Path(second.path).is_dir() and Path(kept.path).is_dir()
    assert callback.latest == {"t1": second, "t2": kept}
    # the best came from the deleted checkpoint, but its zip was written before
    best = read_best(job)
    assert best is not None and best.value == 0.5 and [b.value for b in observer.bests] == [0.5]
    assert isinstance(load_model(best.model_path), torch.nn.Module)


def test_a_best_checkpoint_tune_never_registered_is_published_at_the_end(tmp_path: Path) -> None:
    """A run stopped between a result and the registration of its checkpoint (Tune's save
    round trip) leaves the checkpoint on storage only; the end of the run adopts it."""
    job, experiment = tmp_path / "job", tmp_path / "ray" / "run-1"
    observer = RecordingObserver()
    callback = EngineCallback(observer, BestWriter(job), JobClock())
    for epoch, value in ((1, 0.6), (2, 0.8), (3, 0.7), (4, 0.99)):
        _report(callback, "t1", epoch, value)
    registered = _checkpoint(experiment / "trial-t1", "checkpoint_000000", 0.6, epoch=1)
    callback.on_checkpoint(1, [], SimpleNamespace(trial_id="t1"), registered)
    _checkpoint(experiment / "trial-t1", "checkpoint_000001", 0.8, epoch=2)  # unregistered
    _checkpoint(experiment / "trial-t1", "checkpoint_000002", 0.7, epoch=3)
    torn = Path(_checkpoint(experiment / "trial-t1", "checkpoint_000003", 0.99, epoch=4).path)
    (torn / "model.safetensors").unlink()  # a copy cut short: skipped, not published
    _checkpoint(experiment / "trial-t2", "checkpoint_000000", 0.95, epoch=9)  # never reported
    callback.adopt_unregistered(experiment)
    best = read_best(job)
    assert best is not None and best.value == 0.8 and best.epoch == 2
    assert [b.value for b in observer.bests] == [0.6, 0.8]
    assert isinstance(load_model(best.model_path), torch.nn.Module)
