"""Checkpoints of a training model: architecture, weights, Adam state, caller's extras.

Layout of ``directory`` (no pickle anywhere):

- ``model.safetensors``: the model's ``state_dict`` (parameters and standardization buffers)
- ``optimizer.safetensors``: Adam's per-parameter state, keys ``"<param index>.<name>"``
- ``checkpoint.json``: ``{"format", "spec", "param_groups", "extra"}``; written last, so a
  directory with ``checkpoint.json`` is complete.

The spec holds the *current* hidden sizes, so a restored model has the sizes it had when
saved, whatever it started with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from dynas_service.nn.builders import build_model, make_optimizer
from dynas_service.nn.model import DynamicNet
from dynas_service.nn.spec import ArchitectureSpec

CHECKPOINT_FORMAT = "dynas-checkpoint-v1"
_MODEL_FILE = "model.safetensors"
_OPTIMIZER_FILE = "optimizer.safetensors"
_META_FILE = "checkpoint.json"


def save_checkpoint(
    directory: str | Path,
    model: DynamicNet,
    optimizer: torch.optim.Optimizer,
    extra: dict[str, Any],
) -> None:
    """Write ``model``, ``optimizer`` and the JSON-safe ``extra`` dict into ``directory``."""
    try:
        extra_json = json.loads(json.dumps(extra, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"extra must be a JSON-serializable dict: {exc}") from exc
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    save_file(_cpu_contiguous(model.state_dict()), str(path / _MODEL_FILE))
    state = optimizer.state_dict()
    save_file(_flatten_optimizer_state(state["state"]), str(path / _OPTIMIZER_FILE))
    meta = {
        "format": CHECKPOINT_FORMAT,
        "spec": model.spec.to_dict(),
        "param_groups": state["param_groups"],
        "extra": extra_json,
    }
    tmp = path / (_META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=1))
    tmp.replace(path / _META_FILE)


def load_checkpoint(
    directory: str | Path, *, device: str | torch.device = "cpu"
) -> tuple[DynamicNet, torch.optim.Adam, dict[str, Any]]:
    """Rebuild the model (at its saved sizes), its Adam and the ``extra`` dict."""
    path = Path(directory)
    model, meta = _load_model(path, device)
    groups = meta["param_groups"]
    if not isinstance(groups, list) or not groups:
        raise ValueError(f"{path / _META_FILE}: param_groups must be a non-empty list")
    optimizer = make_optimizer(model, float(groups[0]["lr"]))
    flat = load_file(str(path / _OPTIMIZER_FILE), device=str(torch.device(device)))
    optimizer.load_state_dict(
        {"state": _unflatten_optimizer_state(flat), "param_groups": _json_groups(groups)}
    )
    return model, optimizer, dict(meta["extra"])


def load_checkpoint_model(
    directory: str | Path, *, device: str | torch.device = "cpu"
) -> DynamicNet:
    """Only the model of a checkpoint: for readers that export or predict, not train
    (skips the optimizer file, and building an Adam, whose first use imports TorchDynamo)."""
    return _load_model(Path(directory), device)[0]


def _load_model(path: Path, device: str | torch.device) -> tuple[DynamicNet, dict[str, Any]]:
    meta_path = path / _META_FILE
    if not meta_path.is_file():
        raise ValueError(f"{path} is not a checkpoint directory (no {_META_FILE})")
    meta = json.loads(meta_path.read_text())
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{meta_path} is not a {CHECKPOINT_FORMAT} file")
    spec = ArchitectureSpec.from_dict(meta["spec"])
    model = build_model(spec, device=device)
    weights = load_file(str(path / _MODEL_FILE), device=str(torch.device(device)))
    model.load_state_dict(weights, strict=True)
    return model, meta


def _cpu_contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}


def _flatten_optimizer_state(state: dict[int, dict[str, Any]]) -> dict[str, torch.Tensor]:
    flat: dict[str, torch.Tensor] = {}
    for index, entries in state.items():
        for name, value in entries.items():
            tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            flat[f"{index}.{name}"] = tensor.detach().to("cpu").contiguous()
    return flat


def _unflatten_optimizer_state(flat: dict[str, torch.Tensor]) -> dict[int, dict[str, Any]]:
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in flat.items():
        index, _, name = key.partition(".")
        if not index.isdigit() or not name:
            raise ValueError(f"bad optimizer state key {key!r}")
        state.setdefault(int(index), {})[name] = tensor
    return state


def _json_groups(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    restored = []
    for group in groups:
        group = dict(group)
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
        restored.append(group)
    return restored
