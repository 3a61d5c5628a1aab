"""The Ray Tune function trainable: one trial trains one individual, one report per epoch.

The trial's config (JSON-safe, written by a searcher or the evolution scheduler) names the
individual and where its model starts:

- ``individual_id``, ``parent_id``, ``origin`` ("fresh" | "clone" | "continue"),
  ``hyperparameters`` (learning_rate, batch_size, reg_strength, units_<i> for static
  models), ``source`` (a checkpoint directory to start from, or ``None``), ``seed``,
  ``monitor`` (an encoded :class:`~dynas_service.search.TrialMonitor`, or ``None`` to train
  until the scheduler stops or pauses the trial), ``adopt_checkpoint`` (optional: continue
  from any checkpoint Tune restores, as Ray's own PopulationBasedTraining expects),
  ``report_ahead`` (optional: train epoch k+1 while epoch k's result travels to the
  driver; Tune's function trainable otherwise blocks in ``report`` until the driver has
  handled the result, 10-17 ms per epoch measured). Never past an epoch on which a
  scheduler may pause the trial: an evolution slot's last epoch of its generation and
  every epoch after it (the epoch trained ahead would be thrown away).

Start rule: Tune's own latest checkpoint if it belongs to the same individual (a restore
after a pause or a failure), else ``source`` (a clone or a resumed job), else a fresh model.
Each epoch reports one result (the validation metric as ``value``, losses, layer sizes,
parameters, reg_strength, epoch seconds, epoch, age, individual/parent id, origin), with a
checkpoint when the individual beats its own best, every :data:`CHECKPOINT_EVERY` epochs
of a configuration search, and for an evolution slot at the end of its generation's
``epochs`` and on every epoch after it (where it may be paused or cloned). A checkpoint
holds architecture, weights and optimizer state (``nn.save_checkpoint``) plus
``engine.json`` (lineage, metric, hyperparameters, the worker's pid and Ray node id).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from ray import tune

from dynas_service.engine.ahead import run_ahead
from dynas_service.engine.request import ModelOptions
from dynas_service.nn import (
    DynamicSettings,
    build_model,
    default_spec,
    fit_epoch,
    input_statistics,
    load_checkpoint,
    make_optimizer,
    save_checkpoint,
    set_learning_rate,
    target_statistics,
)

ENGINE_FILE = "engine.json"
VALUE = "value"  # the reported validation metric (accuracy or rmse)
CHECKPOINT_EVERY = 5  # epochs between checkpoints when the model does not improve


@dataclass(frozen=True)
class TrainingData:
    """Everything a worker needs besides the config; shipped once via the object store."""

    key: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    task: str
    input_shape: tuple[int, ...]
    n_outputs: int
    model: ModelOptions


# One entry per worker process: the data as tensors on the device, built on first use so
# restarts of the function in a reused actor do not convert it again.
_TENSORS: dict[tuple[str, str], tuple[torch.Tensor, ...]] = {}


def encode_object(obj: Any) -> str:
    """A picklable engine-made object as a JSON-safe string (never user data)."""
    return base64.b64encode(pickle.dumps(obj)).decode("ascii")


def decode_object(text: str) -> Any:
    """Inverse of :func:`encode_object`; only for strings the engine itself made."""
    return pickle.loads(base64.b64decode(text))


def _tensors(data: TrainingData, device: torch.device) -> tuple[torch.Tensor, ...]:
    key = (data.key, str(device))
    if key not in _TENSORS:
        _TENSORS.clear()
        ydtype = torch.long if data.task == "classification" else torch.float32
        _TENSORS[key] = (
            torch.as_tensor(data.X_train, dtype=torch.float32, device=device),
            torch.as_tensor(data.y_train, dtype=ydtype, device=device),
            torch.as_tensor(data.X_val, dtype=torch.float32, device=device),
            torch.as_tensor(data.y_val, dtype=ydtype, device=device),
        )
    return _TENSORS[key]


def _device() -> torch.device:
    import ray

    gpus = ray.get_gpu_ids() if ray.is_initialized() else []
    return torch.device("cuda") if gpus and torch.cuda.is_available() else torch.device("cpu")


def _node_id() -> str | None:
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None


def read_engine_meta(directory: str | Path) -> dict[str, Any]:
    """The lineage file of a checkpoint (empty dict when missing)."""
    path = Path(directory) / ENGINE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _fresh_model(config: dict[str, Any], data: TrainingData, device: torch.device):
    opts, hp = data.model, config["hyperparameters"]
    spec = default_spec(opts.family, data.input_shape, data.n_outputs, data.task,
                        hidden_layers=opts.hidden_layers, initial_units=opts.initial_units,
                        dropout=opts.dropout)
    if not opts.dynamic:
        spec = spec.with_hidden_sizes(
            [int(hp.get(f"units_{i}", opts.initial_units)) for i in range(opts.hidden_layers)]
        )
    X_train, y_train = _tensors(data, device)[:2]
    mean, std = input_statistics(X_train)
    extra: dict[str, Any] = {}
    if data.task == "regression":
        tmean, tstd = target_statistics(y_train)
        extra = {"target_mean": tmean, "target_std": tstd}
    generator = torch.Generator().manual_seed(int(config.get("seed", 0)))
    model = build_model(spec, input_mean=mean, input_std=std, generator=generator,
                        device=device, **extra)
    return model, make_optimizer(model, float(hp["learning_rate"])), {}


def _start(config: dict[str, Any], data: TrainingData, device: torch.device):
    """(model, optimizer, lineage meta) from the start rule in the module docstring."""
    own = tune.get_checkpoint()
    if own is not None:
        with own.as_directory() as directory:
            meta = read_engine_meta(directory)
            if config.get("adopt_checkpoint") or meta.get("individual_id") == config[
                    "individual_id"]:
                return (*load_checkpoint(directory, device=device)[:2], meta)
    if config.get("source"):
        from ray.tune import Checkpoint

        with Checkpoint(config["source"]).as_directory() as directory:
            meta = read_engine_meta(directory)
            model, optimizer, _ = load_checkpoint(directory, device=device)
            return model, optimizer, meta
    return _fresh_model(config, data, device)


def train_individual(config: dict[str, Any], data: TrainingData) -> None:
    """Train ``config``'s individual epoch after epoch (see the module docstring)."""
    torch.set_num_threads(max(1, int(config.get("cpus", 1))))
    device = _device()
    model, optimizer, meta = _start(config, data, device)
    epochs = _epochs(config, data, _tensors(data, device), model, optimizer, meta)
    if config.get("report_ahead"):
        epochs = run_ahead(epochs, discard=_discard, wait_after=lambda item: item.pausable)
    # Closed explicitly: Tune ends a trial by raising SystemExit inside ``report``, and the
    # producer thread of ``run_ahead`` must stop then, not whenever the generator is freed.
    with contextlib.closing(epochs):
        for item in epochs:
            try:
                if item.directory is None:
                    tune.report(item.metrics)
                else:
                    tune.report(item.metrics,
                                checkpoint=tune.Checkpoint.from_directory(item.directory))
            finally:
                _discard(item)


class Epoch(NamedTuple):
    """One trained epoch, ready to report."""

    metrics: dict[str, Any]
    directory: str | None  # a checkpoint to report with it
    pausable: bool  # a scheduler may pause the trial on this result


def _discard(item: Epoch) -> None:
    if item.directory is not None:
        shutil.rmtree(item.directory, ignore_errors=True)


def _epochs(config: dict[str, Any], data: TrainingData, tensors: tuple[torch.Tensor, ...],
            model: Any, optimizer: Any, meta: dict[str, Any]) -> Generator[Epoch, None, None]:
    """Train and yield one :class:`Epoch` per epoch until the monitor says stop (or forever).

    A checkpoint directory is a fresh temporary directory the consumer deletes.
    """
    X_train, y_train, X_val, y_val = tensors
    hp = config["hyperparameters"]
    set_learning_rate(optimizer, float(hp["learning_rate"]))
    same = meta.get("individual_id") == config["individual_id"]
    age = int(meta.get("age", 0))
    epoch = int(meta.get("epoch", 0)) if same else 0
    reg = float(meta["reg_strength"]) if same and "reg_strength" in meta else float(
        hp.get("reg_strength", 0.0))
    # A restored trial resumes its monitor (patience, schedule) from its checkpoint.
    saved_monitor = meta.get("monitor") if same else None
    encoded = saved_monitor or config.get("monitor")
    monitor = decode_object(encoded) if encoded else None
    generator = torch.Generator().manual_seed(int(config.get("seed", 0)) + 7919 * epoch)
    settings = DynamicSettings()
    node_id = _node_id()
    # A checkpoint costs more than an epoch of a small model; see the module docstring for
    # when one is written (every job-best epoch is an own-best, so it always has one).
    generation_epochs = config.get("epochs")
    every = int(generation_epochs or CHECKPOINT_EVERY)
    own_best: float | None = meta.get(VALUE) if same else None
    run_epochs = 0
    while True:
        result = fit_epoch(model, optimizer, X_train, y_train, X_val, y_val,
                           batch_size=int(hp["batch_size"]), reg_strength=reg,
                           regularizer=data.model.regularizer, dynamic=data.model.dynamic,
                           settings=settings, generator=generator)
        epoch, age = epoch + 1, age + 1
        decision = monitor.observe(epoch, result.val_loss) if monitor is not None else None
        metrics = {
            VALUE: result.val_metric, "metric_name": result.metric_name,
            "higher_is_better": result.higher_is_better, "train_loss": result.train_loss,
            "val_loss": result.val_loss, "layer_sizes": list(result.layer_sizes),
            "n_parameters": result.n_parameters, "reg_strength": reg,
            "epoch_seconds": result.seconds, "epoch": epoch, "age": age,
            "individual_id": config["individual_id"], "parent_id": config.get("parent_id"),
            "origin": config.get("origin", "fresh"),
        }
        improved = own_best is None or (result.val_metric > own_best if result.higher_is_better
                                        else result.val_metric < own_best)
        if improved:
            own_best = result.val_metric
        run_epochs += 1
        pausable = generation_epochs is not None and run_epochs >= every
        directory = None
        if improved or pausable or run_epochs % every == 0:
            lineage = {k: metrics[k] for k in ("individual_id", "parent_id", "epoch", "age",
                                                "reg_strength", VALUE, "metric_name",
                                                "higher_is_better")}
            lineage.update(hyperparameters=hp, pid=os.getpid(), node_id=node_id,
                           monitor=None if monitor is None else encode_object(monitor))
            directory = tempfile.mkdtemp(prefix="dynas-checkpoint-")
            save_checkpoint(directory, model, optimizer, {"epoch": epoch, "age": age})
            (Path(directory) / ENGINE_FILE).write_text(json.dumps(lineage))
        yield Epoch(metrics, directory, pausable)
        if decision is not None and decision.stop:
            return
        if decision is not None and decision.reg_strength is not None:
            reg = float(decision.reg_strength)
