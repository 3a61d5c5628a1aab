"""The built-in datasets by name: `digits` and `puzzle8` need no network, the torchvision
sets are downloaded into ``<data_dir>/builtin`` on first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from dynas_service.data.dataset import Dataset, DatasetInfo, UnknownDatasetError
from dynas_service.data.puzzle8 import N_FEATURES, N_STATES, load_puzzle8
from dynas_service.data.torchvision_sets import (
    CIFAR10_CLASSES,
    DIGIT_CLASSES,
    FASHION_CLASSES,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    load_svhn,
)


def load_digits() -> Dataset:
    """scikit-learn's bundled 8x8 digits: X ``(1797, 1, 8, 8)`` float32 in 0..16, 10 classes."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = np.asarray(bunch.images, dtype=np.float32)[:, None, :, :]
    return Dataset(BUILTIN_INFO["digits"], images, np.asarray(bunch.target, dtype=np.int64))


def _image_info(name: str, n: int, shape: tuple[int, ...], classes: tuple[str, ...]) -> DatasetInfo:
    return DatasetInfo(
        id=name,
        name=name,
        task="classification",
        n_samples=n,
        n_features=int(np.prod(shape)),
        input_shape=shape,
        n_classes=len(classes),
        class_names=classes,
    )


BUILTIN_INFO: dict[str, DatasetInfo] = {
    "digits": _image_info("digits", 1797, (1, 8, 8), DIGIT_CLASSES),
    "puzzle8": DatasetInfo(
        "puzzle8", "puzzle8", "regression", N_STATES, N_FEATURES, (N_FEATURES,), None
    ),
    "mnist": _image_info("mnist", 60000, (1, 28, 28), DIGIT_CLASSES),
    "fashion_mnist": _image_info("fashion_mnist", 60000, (1, 28, 28), FASHION_CLASSES),
    "cifar10": _image_info("cifar10", 50000, (3, 32, 32), CIFAR10_CLASSES),
    "svhn": _image_info("svhn", 73257, (3, 32, 32), DIGIT_CLASSES),
}
"""Published metadata of each built-in set (no loading, no download)."""

BUILTIN_DATASETS: tuple[str, ...] = tuple(BUILTIN_INFO)
OFFLINE_DATASETS: tuple[str, ...] = ("digits", "puzzle8")
"""Built-ins that never need the network."""

_LOADERS: dict[str, Callable[[Path], Dataset]] = {
    "digits": lambda _data_dir: load_digits(),
    "puzzle8": load_puzzle8,
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "svhn": load_svhn,
}


def load_builtin(name: str, data_dir: Path | str) -> Dataset:
    """Load the built-in dataset ``name``; files are cached under ``<data_dir>/builtin``.

    Raises `UnknownDatasetError` for other names and `DatasetError` when a download fails.
    """
    loader = _LOADERS.get(name)
    if loader is None:
        raise UnknownDatasetError(
            f"unknown built-in dataset {name!r}; choose one of {', '.join(BUILTIN_DATASETS)}"
        )
    return loader(Path(data_dir))
