"""The torchvision image datasets (training splits), downloaded once into the data directory.

Files live where torchvision puts them, under ``<data_dir>/builtin/``, so a directory
prepared by torchvision (or by hand on a machine without internet) is used as is:

- ``MNIST/raw/train-{images-idx3,labels-idx1}-ubyte[.gz]``
- ``FashionMNIST/raw/`` (same names)
- ``cifar-10-batches-py/data_batch_{1..5}`` (extracted from ``cifar-10-python.tar.gz``)
- ``SVHN/train_32x32.mat``

Missing files are downloaded from the official URLs and verified against their published
MD5 checksums (`fetch_file`); without network access loading raises `DatasetError`.
Only the official training split is loaded: the service splits validation off it itself.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dynas_service.data.dataset import Dataset, DatasetError, DatasetInfo
from dynas_service.data.downloads import fetch_file
from dynas_service.data.torchvision_formats import read_cifar_batch, read_idx, read_svhn_mat


@dataclass(frozen=True)
class RemoteFile:
    """A published file: its name, the mirrors to try in order, and its MD5."""

    name: str
    urls: tuple[str, ...]
    md5: str


def _mirrored(name: str, md5: str, *bases: str) -> RemoteFile:
    return RemoteFile(name, tuple(base + name for base in bases), md5)


_MNIST_BASES = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_BASES = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
MNIST_FILES = (
    _mirrored("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", *_MNIST_BASES),
    _mirrored("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", *_MNIST_BASES),
)
FASHION_MNIST_FILES = (
    _mirrored("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", *_FASHION_BASES),
    _mirrored("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", *_FASHION_BASES),
)
CIFAR10_ARCHIVE = _mirrored(
    "cifar-10-python.tar.gz",
    "c58f30108f718f92721af3b95e74349a",
    "https://www.cs.toronto.edu/~kriz/",
)
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_BATCHES = tuple(f"data_batch_{k}" for k in range(1, 6))
SVHN_TRAIN = _mirrored(
    "train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373", "http://ufldl.stanford.edu/housenumbers/"
)

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
DIGIT_CLASSES = tuple(str(d) for d in range(10))


def builtin_root(data_dir: Path) -> Path:
    """Where built-in datasets are stored: ``<data_dir>/builtin``."""
    return Path(data_dir) / "builtin"


def _image_dataset(
    name: str, images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]
) -> Dataset:
    if images.ndim == 3:
        images = images[:, None, :, :]
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise DatasetError(f"{name}: labels outside 0..{len(classes) - 1}")
    if len(images) != len(labels):
        raise DatasetError(f"{name}: {len(images)} images but {len(labels)} labels")
    info = DatasetInfo(
        id=name,
        name=name,
        task="classification",
        n_samples=len(images),
        n_features=int(np.prod(images.shape[1:])),
        input_shape=tuple(int(d) for d in images.shape[1:]),
        n_classes=len(classes),
        class_names=classes,
    )
    return Dataset(info, np.ascontiguousarray(images, dtype=np.float32), labels.astype(np.int64))


def _idx_file(raw_dir: Path, remote: RemoteFile) -> Path:
    """The plain file torchvision extracts, else the ``.gz`` (downloaded if missing)."""
    plain = raw_dir / remote.name.removesuffix(".gz")
    if plain.is_file():
        return plain
    return fetch_file(remote.urls, raw_dir / remote.name, remote.md5)


def _load_idx_set(
    name: str, folder: str, files: tuple[RemoteFile, RemoteFile], classes: tuple[str, ...]
) -> Callable[[Path], Dataset]:
    def load(data_dir: Path) -> Dataset:
        raw_dir = builtin_root(data_dir) / folder / "raw"
        images = read_idx(_idx_file(raw_dir, files[0]))
        labels = read_idx(_idx_file(raw_dir, files[1])).astype(np.int64)
        if images.ndim != 3:
            raise DatasetError(f"{name}: images must be (N, H, W), got {images.shape}")
        return _image_dataset(name, images, labels.reshape(-1), classes)

    return load


load_mnist = _load_idx_set("mnist", "MNIST", MNIST_FILES, DIGIT_CLASSES)
load_fashion_mnist = _load_idx_set(
    "fashion_mnist", "FashionMNIST", FASHION_MNIST_FILES, FASHION_CLASSES
)


def load_cifar10(data_dir: Path) -> Dataset:
    """CIFAR-10's 50,000 training images, ``(N, 3, 32, 32)``."""
    folder = builtin_root(data_dir) / CIFAR10_FOLDER
    if not all((folder / batch).is_file() for batch in CIFAR10_BATCHES):
        archive = CIFAR10_ARCHIVE
        path = fetch_file(archive.urls, builtin_root(data_dir) / archive.name, archive.md5)
        extract_cifar_batches(path, folder)
    parts = [read_cifar_batch(folder / batch) for batch in CIFAR10_BATCHES]
    images = np.concatenate([images for images, _ in parts])
    labels = np.concatenate([labels for _, labels in parts])
    return _image_dataset("cifar10", images, labels, CIFAR10_CLASSES)


def extract_cifar_batches(archive: Path, folder: Path) -> None:
    """Copy the training batches out of the tarball by name (no path from the archive is
    used, so a crafted member name cannot write outside ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for batch in CIFAR10_BATCHES:
                member = tar.extractfile(f"{CIFAR10_FOLDER}/{batch}")
                if member is None:
                    raise DatasetError(f"{archive}: {batch} is not a regular file")
                tmp = folder / f".{batch}.tmp"
                tmp.write_bytes(member.read())
                tmp.replace(folder / batch)
    except (tarfile.TarError, KeyError, OSError) as error:
        raise DatasetError(f"{archive} is not a valid CIFAR-10 archive: {error}") from error


def load_svhn(data_dir: Path) -> Dataset:
    """SVHN's 73,257 training digits, ``(N, 3, 32, 32)``, label 0 for the digit 0."""
    remote = SVHN_TRAIN
    path = fetch_file(remote.urls, builtin_root(data_dir) / "SVHN" / remote.name, remote.md5)
    images, labels = read_svhn_mat(path)
    return _image_dataset("svhn", images, labels, DIGIT_CLASSES)
