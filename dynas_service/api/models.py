"""The best model's files and loaded copies, served only from the job's own directory.

Downloads: ``safetensors`` is the engine's immutable zip of best version k; ``torchscript``
and ``onnx`` are generated from that zip once and cached beside it
(``best/v<k>/model.torchscript.pt``, ``best/v<k>/model.onnx``, written atomically), so
every download of version k is byte-identical, across API restarts too. Loaded models for
``/predict`` are kept in a small LRU keyed by (job, version). Thread-safe.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

FORMATS: dict[str, tuple[str | None, str]] = {
    "torchscript": ("model.torchscript.pt", ".pt"),
    "safetensors": (None, ".safetensors.zip"),
    "onnx": ("model.onnx", ".onnx"),
}
"""format -> (cached file name beside the zip, or None for the zip itself; download suffix)."""


class ModelUnavailableError(LookupError):
    """The best model's file is missing, outside the job directory, or cannot be exported."""


class ModelFiles:
    """Exports and loaded copies of best models (see the module docstring)."""

    def __init__(self, cache_size: int = 8) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size=}")
        self._cache_size = cache_size
        self._loaded: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._export_locks: dict[Path, threading.Lock] = {}

    def model_zip(self, job_dir: Path, best: dict[str, Any]) -> Path:
        """The best's zip, checked to lie inside ``job_dir``."""
        root = job_dir.resolve()
        path = Path(str(best.get("model_path", "")))
        path = (path if path.is_absolute() else root / path).resolve()
        if not path.is_relative_to(root):
            raise ModelUnavailableError("the best model is not stored in this job's directory")
        if not path.is_file():
            raise ModelUnavailableError(
                f"the best model file of version {best.get('version')} "
                "is missing from the job directory"
            )
        return path

    def export(self, job_dir: Path, best: dict[str, Any], fmt: str) -> Path:
        """The file to download for ``fmt``, generating and caching it on first use."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        source = self.model_zip(job_dir, best)
        name = FORMATS[fmt][0]
        if name is None:
            return source
        target = source.parent / name
        with self._lock:
            lock = self._export_locks.setdefault(target, threading.Lock())
        with lock:
            if not target.is_file():
                self._write_export(source, target, fmt)
        return target

    @staticmethod
    def _write_export(source: Path, target: Path, fmt: str) -> None:
        from dynas_service.nn import StaticNet, load_model, save_onnx, save_torchscript

        model = load_model(source)
        if not isinstance(model, StaticNet):
            raise ModelUnavailableError("the stored best model is not a model zip")
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            if fmt == "torchscript":
                save_torchscript(model, tmp)
            elif not save_onnx(model, tmp):
                raise ModelUnavailableError(
                    "this model could not be exported to ONNX; "
                    "download format=torchscript or safetensors"
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def loaded(self, job_id: str, job_dir: Path, best: dict[str, Any]) -> Any:
        """The best model as a torch module in eval mode (cached per job and version)."""
        key = (job_id, int(best.get("version", 0)))
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        from dynas_service.nn import load_model

        model = load_model(self.model_zip(job_dir, best))
        with self._lock:
            self._loaded[key] = model
            while len(self._loaded) > self._cache_size:
                self._loaded.popitem(last=False)
        return model

    def forget(self, job_id: str) -> None:
        """Drop a deleted job's loaded models."""
        with self._lock:
            for key in [k for k in self._loaded if k[0] == job_id]:
                del self._loaded[key]
