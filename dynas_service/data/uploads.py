"""Parse an uploaded file (``.npz``, ``.csv``, ``.parquet``) into a validated `Dataset`.

Nothing is unpickled: ``.npz`` members are read with ``allow_pickle=False`` after their
headers were checked (numeric dtype, bounded size); tables go to `tables`. Every problem is
a `DatasetError`.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import PurePath

import numpy as np

from dynas_service.data.dataset import TASKS, Dataset, DatasetError
from dynas_service.data.validation import build_dataset, check_size

ACCEPTED_EXTENSIONS = (".npz", ".csv", ".parquet")


def parse_upload(
    content: bytes, filename: str, *, target: str | None = None, task: str | None = None
) -> Dataset:
    """Read ``content`` by the extension of ``filename`` and validate it.

    ``.npz`` holds arrays ``X`` and ``y``; ``.csv``/``.parquet`` hold a table whose
    ``target`` column (default: the last) is ``y`` and whose other columns, all numeric,
    are the features. ``task`` overrides the inferred one. The dataset's ``id`` is ``""``
    until `DatasetStore.add` assigns one; its name is the file's base name.
    """
    if task is not None and task not in TASKS:
        raise DatasetError(f"task={task!r} is not one of {', '.join(TASKS)}")
    extension = PurePath(filename).suffix.lower()
    name = dataset_name(filename)
    if not content:
        raise DatasetError(f"{filename!r} is empty")
    if extension == ".npz":
        if target is not None:
            raise DatasetError(
                "target= only applies to .csv and .parquet; an .npz file holds arrays X and y"
            )
        X, y = _read_npz(content)
        return build_dataset(X, y, name=name, task=task)
    if extension in (".csv", ".parquet"):
        from dynas_service.data import tables  # pandas/pyarrow only when a table arrives

        return tables.parse_table(content, extension, name=name, target=target, task=task)
    raise DatasetError(
        f"unsupported file type {extension or '(none)'!r} for {filename!r}; "
        f"upload one of {', '.join(ACCEPTED_EXTENSIONS)}"
    )


def dataset_name(filename: str) -> str:
    """A display name from a client-supplied file name (never used as a path)."""
    stem = PurePath(filename.replace("\\", "/")).stem
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", stem).strip(" .")
    return cleaned[:100] or "upload"


def _read_npz(content: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = set(archive.namelist())
    except zipfile.BadZipFile as error:
        raise DatasetError("not a valid .npz file (it must be a zip of .npy arrays)") from error
    missing = [key for key in ("X", "y") if f"{key}.npy" not in members]
    if missing:
        found = sorted(m.removesuffix(".npy") for m in members)
        raise DatasetError(f"the .npz file lacks array(s) {missing}; found {found}")
    for key in ("X", "y"):
        _check_npy_header(archive, key)
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as npz:
            return npz["X"], npz["y"]
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise DatasetError(f"could not read the .npz arrays: {error}") from error


def _check_npy_header(archive: zipfile.ZipFile, key: str) -> None:
    """Refuse object dtypes and oversized arrays before decompressing any data."""
    try:
        with archive.open(f"{key}.npy") as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise DatasetError(f"{key} in the .npz file is not a valid .npy array: {error}") from error
    if dtype.hasobject:
        raise DatasetError(f"{key} holds Python objects; save numeric (or, for y, string) arrays")
    if key == "X" and dtype.kind not in "biuf":
        raise DatasetError(f"X must be numeric, got dtype {dtype}; encode features as numbers")
    check_size(math.prod(shape), f"array {key}")
