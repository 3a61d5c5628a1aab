"""The downloadable model file: a zip of ``model.safetensors`` + ``architecture.json``.

``architecture.json`` lists the :class:`~dynas_service.nn.export.StaticNet`'s modules as
plain records (``linear``, ``conv2d``, ``selu``, ``flatten``, ``standardize``) plus the task,
input shape and the dynamic model's spec. :func:`load_model` rebuilds the modules from
those records and loads the tensors with safetensors: nothing is unpickled. It also loads
TorchScript files (``torch.jit.load``).
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from dynas_service.nn.export import Standardize, StaticNet, export_static
from dynas_service.nn.model import DynamicNet

MODEL_ZIP_FORMAT = "dynas-static-v1"
_WEIGHTS = "model.safetensors"
_ARCHITECTURE = "architecture.json"
_MAX_ARCHITECTURE_BYTES = 1 << 20
_MAX_WEIGHTS_BYTES = 4 << 30


def save_model_zip(model: DynamicNet | StaticNet, path: str | Path) -> None:
    """Write the static export of ``model`` as a zip to ``path``."""
    static = model if isinstance(model, StaticNet) else export_static(model)
    architecture: dict[str, Any] = {
        "format": MODEL_ZIP_FORMAT,
        "task": static.task,
        "input_shape": list(static.input_shape),
        "modules": [_describe(m) for m in static],
    }
    if isinstance(model, DynamicNet):
        architecture["spec"] = model.spec.to_dict()
    tensors = {k: v.detach().cpu().contiguous() for k, v in static.state_dict().items()}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_ARCHITECTURE, json.dumps(architecture, indent=1))
        # Stored, not deflated: float weights shrink by ~7 % for 40-60x the CPU time, and
        # the engine writes a zip on every new best.
        archive.writestr(_WEIGHTS, save_safetensors(tensors), compress_type=zipfile.ZIP_STORED)


def load_model(path: str | Path) -> nn.Module:
    """Load a model zip (as a :class:`StaticNet`) or a TorchScript file, on the CPU, in eval
    mode. Raises ``ValueError`` for anything else."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is neither a model zip nor a TorchScript file")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if _ARCHITECTURE not in names:
            return _load_torchscript(path)
        architecture = json.loads(_read_member(archive, _ARCHITECTURE, _MAX_ARCHITECTURE_BYTES))
        weights = load_safetensors(_read_member(archive, _WEIGHTS, _MAX_WEIGHTS_BYTES))
    return _rebuild(architecture, weights)


def read_architecture(path: str | Path) -> dict[str, Any]:
    """The ``architecture.json`` record of a model zip."""
    with zipfile.ZipFile(path) as archive:
        data = json.loads(_read_member(archive, _ARCHITECTURE, _MAX_ARCHITECTURE_BYTES))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: architecture.json is not an object")
    return data


def _load_torchscript(path: Path) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            module = torch.jit.load(str(path), map_location="cpu")
        except RuntimeError as exc:
            raise ValueError(f"{path} is neither a model zip nor a TorchScript file") from exc
    return module.eval()


def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise ValueError(f"model zip lacks {name}") from exc
    if info.file_size > limit:
        raise ValueError(f"{name} in the model zip is too large ({info.file_size} bytes)")
    return archive.read(name)


def _describe(module: nn.Module) -> dict[str, Any]:
    if isinstance(module, nn.Linear):
        return {"type": "linear", "in": module.in_features, "out": module.out_features}
    if isinstance(module, nn.Conv2d):
        return {
            "type": "conv2d",
            "in": module.in_channels,
            "out": module.out_channels,
            "kernel": _first(module.kernel_size),
            "stride": _first(module.stride),
            "padding": _first(module.padding),
        }
    if isinstance(module, nn.SELU):
        return {"type": "selu"}
    if isinstance(module, nn.Flatten):
        return {"type": "flatten"}
    if isinstance(module, Standardize):
        return {"type": "standardize", "shape": list(module.shape)}
    raise TypeError(f"cannot describe module type {type(module).__name__}")


def _first(value: Any) -> int:
    return int(value[0]) if isinstance(value, tuple) else int(value)


def _rebuild(architecture: Any, weights: dict[str, torch.Tensor]) -> StaticNet:
    if not isinstance(architecture, dict) or architecture.get("format") != MODEL_ZIP_FORMAT:
        raise ValueError(f"architecture.json is not a {MODEL_ZIP_FORMAT} record")
    records = architecture.get("modules")
    if not isinstance(records, list) or not records:
        raise ValueError("architecture.json has no modules list")
    with torch.device("meta"):  # no memory is allocated for sizes the file merely claims
        shells = [_module_from_record(r) for r in records]
    expected = StaticNet(shells, "regression", []).state_dict()
    given = {k: tuple(v.shape) for k, v in weights.items()}
    if {k: tuple(v.shape) for k, v in expected.items()} != given:
        raise ValueError("model weights do not match the architecture's layer sizes")
    modules = [_module_from_record(r) for r in records]
    task = architecture.get("task")
    if task not in ("classification", "regression"):
        raise ValueError(f"architecture.json has an unknown task {task!r}")
    shape = [_positive_int(v, "input_shape") for v in architecture.get("input_shape", [])]
    static = StaticNet(modules, str(task), shape)
    try:
        static.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"model weights do not match the architecture: {exc}") from exc
    return static.eval()


def _module_from_record(record: Any) -> nn.Module:
    if not isinstance(record, dict):
        raise ValueError(f"bad module record {record!r}")
    kind = record.get("type")
    if kind == "linear":
        return nn.Linear(_positive_int(record["in"], "in"), _positive_int(record["out"], "out"))
    if kind == "conv2d":
        return nn.Conv2d(
            _positive_int(record["in"], "in"),
            _positive_int(record["out"], "out"),
            _positive_int(record["kernel"], "kernel"),
            stride=_positive_int(record["stride"], "stride"),
            padding=_int_at_least(record["padding"], "padding", 0),
        )
    if kind == "selu":
        return nn.SELU()
    if kind == "flatten":
        return nn.Flatten()
    if kind == "standardize":
        shape = [_positive_int(v, "shape") for v in record["shape"]]
        return Standardize(torch.zeros(shape), torch.ones(shape))
    raise ValueError(f"unknown module type {kind!r} in architecture.json")


def _positive_int(value: Any, name: str) -> int:
    return _int_at_least(value, name, 1)


def _int_at_least(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"architecture.json field {name}={value!r} must be an integer >= {low}")
    return value
