"""Readers for the on-disk formats torchvision downloads, without torchvision.

- MNIST / Fashion-MNIST: IDX files (optionally gzipped).
- CIFAR-10: "python version" batches, which are pickles; read with `SafeUnpickler`, which
  resolves only the handful of numpy/builtin globals a numpy array needs and refuses
  everything else, so a tampered file cannot run code.
- SVHN: MATLAB ``.mat`` files read with `scipy.io.loadmat`.

Every reader returns raw arrays and raises `DatasetError` on a malformed file.
"""

from __future__ import annotations

import gzip
import importlib
import io
import math
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dynas_service.data.dataset import DatasetError

# IDX type codes (the third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """An IDX array (``.gz`` or plain), in native byte order."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DatasetError(f"{path} is not a valid gzip file: {error}") from error
    return parse_idx(raw, str(path))


def parse_idx(raw: bytes, source: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes: 2 zero bytes, a type code, the rank, big-endian int32 dimensions."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetError(f"{source} is not an IDX file (bad magic number)")
    rank = raw[3]
    header = 4 + 4 * rank
    if rank == 0 or len(raw) < header:
        raise DatasetError(f"{source}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetError(
            f"{source}: header promises {expected} data bytes for shape {shape}, "
            f"file has {len(raw) - header}"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def _multiarray_reconstruct() -> Any:
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            return importlib.import_module(module)._reconstruct
        except (ImportError, AttributeError):
            continue
    raise ImportError("numpy has no multiarray._reconstruct")


def _plain_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object dtypes are not allowed")
    return dtype


def _plain_frombuffer(buffer: Any, dtype: Any, shape: Any, order: str) -> np.ndarray:
    """Protocol-5 array reconstruction, for plain dtypes only (a copy, so it is writable)."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object dtypes are not allowed")
    flat = np.frombuffer(buffer, dtype=dtype)
    return flat.reshape(shape, order="F" if order == "F" else "C").copy()


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    if encoding.lower().replace("-", "") != "latin1":
        raise pickle.UnpicklingError(f"codec {encoding!r} is not allowed")
    return text.encode("latin1", errors)


class SafeUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays of plain dtypes, nothing else."""

    # (module, name) in the pickle -> what it resolves to; everything else is refused.
    _ALLOWED: ClassVar[dict[tuple[str, str], Callable[[], Any]]] = {
        ("numpy._core.multiarray", "_reconstruct"): _multiarray_reconstruct,
        ("numpy.core.multiarray", "_reconstruct"): _multiarray_reconstruct,
        ("numpy._core.numeric", "_frombuffer"): lambda: _plain_frombuffer,
        ("numpy.core.numeric", "_frombuffer"): lambda: _plain_frombuffer,
        ("numpy", "ndarray"): lambda: np.ndarray,
        ("numpy", "dtype"): lambda: _plain_dtype,
        ("_codecs", "encode"): lambda: _latin1_encode,
    }

    def find_class(self, module: str, name: str) -> Any:
        resolve = self._ALLOWED.get((module, name))
        if resolve is None:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a data file")
        return resolve()


def safe_unpickle(raw: bytes) -> Any:
    """`SafeUnpickler` over bytes, with the latin1 decoding CIFAR's Python 2 pickles need."""
    return SafeUnpickler(io.BytesIO(raw), encoding="latin1").load()


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: ``(images (N, 3, 32, 32) uint8, labels (N,) int64)``."""
    try:
        batch = safe_unpickle(path.read_bytes())
        data, labels = batch["data"], batch["labels"]
        images = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
        targets = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"{path} is not a valid CIFAR-10 batch: {error}") from error
    if len(images) != len(targets):
        raise DatasetError(f"{path}: {len(images)} images but {len(targets)} labels")
    return images, targets


def read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """SVHN ``*_32x32.mat``: ``(images (N, 3, 32, 32) uint8, labels (N,) int64 in 0..9)``.

    The file stores images as ``(32, 32, 3, N)`` and the digit 0 as label 10.
    """
    from scipy.io import loadmat

    try:
        content = loadmat(str(path))
        images = np.transpose(np.asarray(content["X"], dtype=np.uint8), (3, 2, 0, 1))
        labels = np.asarray(content["y"], dtype=np.int64).reshape(-1)
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"{path} is not a valid SVHN .mat file: {error}") from error
    if len(images) != len(labels):
        raise DatasetError(f"{path}: {len(images)} images but {len(labels)} labels")
    return np.ascontiguousarray(images), np.where(labels == 10, 0, labels)
