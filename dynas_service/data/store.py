"""Uploaded datasets on disk, and name-or-id resolution for jobs.

Layout: ``<root>/<id>/data.npz`` (arrays ``X``, ``y``) and ``<root>/<id>/meta.json``
(`DatasetInfo.to_dict` plus ``created_at``). An upload is written into a hidden temporary
directory and published by renaming it to ``<id>``, so readers see a dataset whole or not at
all; delete renames it away before removing it. Ids are 12 lowercase hex characters and are
checked against `DATASET_ID_PATTERN` on every access, so an id can never name a path.
Safe for concurrent processes (each operation is one atomic rename).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from dynas_service.data.builtins import BUILTIN_DATASETS, BUILTIN_INFO, load_builtin
from dynas_service.data.dataset import Dataset, DatasetError, DatasetInfo, UnknownDatasetError

DATASET_ID_PATTERN = re.compile(r"[0-9a-f]{12}")
UPLOADS_FOLDER = "datasets"


def is_dataset_id(value: str) -> bool:
    """Whether ``value`` has the exact shape of an upload id (and so is no path)."""
    return isinstance(value, str) and DATASET_ID_PATTERN.fullmatch(value) is not None


class DatasetStore:
    """Uploaded datasets under ``root`` (created on first `add`)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def add(self, dataset: Dataset) -> DatasetInfo:
        """Persist ``dataset`` under a new random id; returns its info with that id."""
        self.root.mkdir(parents=True, exist_ok=True)
        while True:
            dataset_id = secrets.token_hex(6)
            if not (self.root / dataset_id).exists():
                break
        info = replace(dataset.info, id=dataset_id)
        staging = self.root / f".staging-{dataset_id}-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            with (staging / "data.npz").open("wb") as stream:
                np.savez(stream, X=dataset.X, y=dataset.y)
            meta = {**info.to_dict(), "created_at": time.time()}
            (staging / "meta.json").write_text(json.dumps(meta, indent=2))
            staging.rename(self.root / dataset_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return info

    def get(self, dataset_id: str) -> DatasetInfo:
        """The info of a stored dataset; `UnknownDatasetError` for a bad or unknown id."""
        return DatasetInfo.from_dict(self._meta(dataset_id))

    def list(self) -> list[DatasetInfo]:
        """All stored datasets, newest first (unreadable entries are skipped)."""
        if not self.root.is_dir():
            return []
        entries = []
        for path in self.root.iterdir():
            if not is_dataset_id(path.name):
                continue
            try:
                meta = self._meta(path.name)
                entries.append((float(meta.get("created_at", 0.0)), DatasetInfo.from_dict(meta)))
            except DatasetError:
                continue
        entries.sort(key=lambda entry: entry[0], reverse=True)
        return [info for _, info in entries]

    def delete(self, dataset_id: str) -> None:
        """Remove a stored dataset; `UnknownDatasetError` if there is none with this id."""
        folder = self._folder(dataset_id)
        trash = self.root / f".deleted-{dataset_id}-{secrets.token_hex(4)}"
        try:
            folder.rename(trash)
        except FileNotFoundError as error:
            raise self._unknown(dataset_id) from error
        shutil.rmtree(trash, ignore_errors=True)

    def load(self, dataset_id: str) -> Dataset:
        """The stored arrays with their info (read with ``allow_pickle=False``)."""
        info = self.get(dataset_id)
        try:
            with np.load(self._folder(dataset_id) / "data.npz", allow_pickle=False) as data:
                X, y = data["X"], data["y"]
        except (OSError, ValueError, KeyError) as error:
            raise DatasetError(f"stored dataset {dataset_id} is damaged: {error}") from error
        return Dataset(info=info, X=X, y=y)

    def _folder(self, dataset_id: str) -> Path:
        if not is_dataset_id(dataset_id):
            raise UnknownDatasetError(
                f"{dataset_id!r} is not a dataset id (ids are 12 lowercase hex characters)"
            )
        return self.root / dataset_id

    def _meta(self, dataset_id: str) -> dict:
        path = self._folder(dataset_id) / "meta.json"
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError as error:
            raise self._unknown(dataset_id) from error
        except (OSError, ValueError) as error:
            raise DatasetError(f"stored dataset {dataset_id} is damaged: {error}") from error
        if not isinstance(meta, dict) or meta.get("id") != dataset_id:
            raise DatasetError(f"stored dataset {dataset_id} has inconsistent metadata")
        return meta

    @staticmethod
    def _unknown(dataset_id: str) -> UnknownDatasetError:
        return UnknownDatasetError(f"no uploaded dataset with id {dataset_id!r}")


def uploads_root(data_dir: Path | str) -> Path:
    """Where uploads of a service live: ``<data_dir>/datasets``."""
    return Path(data_dir) / UPLOADS_FOLDER


def resolve_dataset(name_or_id: str, data_dir: Path | str) -> Dataset:
    """Load a built-in dataset by name or an upload by id; nothing else (never a path)."""
    if name_or_id in BUILTIN_DATASETS:
        return load_builtin(name_or_id, data_dir)
    if is_dataset_id(name_or_id):
        return DatasetStore(uploads_root(data_dir)).load(name_or_id)
    raise _not_a_dataset(name_or_id)


def dataset_info(name_or_id: str, data_dir: Path | str) -> DatasetInfo:
    """`DatasetInfo` of a built-in (published metadata) or upload, without loading arrays.

    For validating a job spec cheaply (does it exist? is it image-shaped?).
    """
    if name_or_id in BUILTIN_DATASETS:
        return BUILTIN_INFO[name_or_id]
    if is_dataset_id(name_or_id):
        return DatasetStore(uploads_root(data_dir)).get(name_or_id)
    raise _not_a_dataset(name_or_id)


def _not_a_dataset(name_or_id: str) -> UnknownDatasetError:
    return UnknownDatasetError(
        f"unknown dataset {name_or_id!r}: use a built-in name ({', '.join(BUILTIN_DATASETS)}) "
        "or the id of an uploaded dataset"
    )
