"""torchvision on-disk formats read from tiny files written here, and verified downloads.

No network: downloads are exercised with ``file://`` URLs.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from dynas_service.data import DatasetError, load_builtin
from dynas_service.data.downloads import fetch_file
from dynas_service.data.torchvision_formats import parse_idx, read_cifar_batch, safe_unpickle
from dynas_service.data.torchvision_sets import CIFAR10_FOLDER, extract_cifar_batches


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_set(raw_dir: Path, n: int, *, gz: bool, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    raw_dir.mkdir(parents=True)
    for name, array in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels)):
        content = idx_bytes(array)
        if gz:
            (raw_dir / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (raw_dir / name).write_bytes(content)
    return images, labels


@pytest.mark.parametrize(
    ("name", "folder", "gz"), [("mnist", "MNIST", True), ("fashion_mnist", "FashionMNIST", False)]
)
def test_idx_sets_load_from_torchvision_layout(
    tmp_path: Path, name: str, folder: str, gz: bool
) -> None:
    images, labels = write_idx_set(tmp_path / "builtin" / folder / "raw", 12, gz=gz)
    dataset = load_builtin(name, tmp_path)
    assert dataset.X.shape == (12, 1, 28, 28) and dataset.X.dtype == np.float32
    np.testing.assert_array_equal(dataset.X[:, 0], images.astype(np.float32))
    np.testing.assert_array_equal(dataset.y, labels.astype(np.int64))
    assert dataset.info.n_classes == 10 and dataset.info.input_shape == (1, 28, 28)


def test_idx_rejects_truncated_and_foreign_bytes() -> None:
    good = idx_bytes(np.zeros((2, 3), dtype=np.uint8))
    np.testing.assert_array_equal(parse_idx(good), np.zeros((2, 3)))
    with pytest.raises(DatasetError, match="promises"):
        parse_idx(good[:-1])
    with pytest.raises(DatasetError, match="magic"):
        parse_idx(b"PK\x03\x04rest")


def test_idx_wider_types_are_big_endian() -> None:
    values = np.array([1, -2, 70000], dtype=">i4")
    raw = bytes([0, 0, 0x0C, 1]) + struct.pack(">i", 3) + values.tobytes()
    np.testing.assert_array_equal(parse_idx(raw), [1, -2, 70000])


def cifar_batch(n: int, seed: int) -> tuple[bytes, np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).tolist()
    batch = {"batch_label": f"batch {seed}", "labels": labels, "data": data, "filenames": []}
    return pickle.dumps(batch, protocol=2), data, labels


def test_cifar10_loads_batches(tmp_path: Path) -> None:
    folder = tmp_path / "builtin" / CIFAR10_FOLDER
    folder.mkdir(parents=True)
    expected_images, expected_labels = [], []
    for k in range(1, 6):
        raw, data, labels = cifar_batch(3, seed=k)
        (folder / f"data_batch_{k}").write_bytes(raw)
        expected_images.append(data.reshape(-1, 3, 32, 32))
        expected_labels += labels
    dataset = load_builtin("cifar10", tmp_path)
    assert dataset.X.shape == (15, 3, 32, 32)
    np.testing.assert_array_equal(dataset.X, np.concatenate(expected_images).astype(np.float32))
    np.testing.assert_array_equal(dataset.y, expected_labels)
    assert dataset.info.class_names is not None and dataset.info.class_names[0] == "airplane"


def test_cifar_batches_are_extracted_from_the_archive_by_name(tmp_path: Path) -> None:
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for k in range(1, 6):
            raw = cifar_batch(2, seed=k)[0]
            member = tarfile.TarInfo(f"{CIFAR10_FOLDER}/data_batch_{k}")
            member.size = len(raw)
            tar.addfile(member, io.BytesIO(raw))
        evil = tarfile.TarInfo("../evil")
        evil.size = 1
        tar.addfile(evil, io.BytesIO(b"x"))
    target = tmp_path / "out" / CIFAR10_FOLDER
    extract_cifar_batches(archive, target)
    images, labels = read_cifar_batch(target / "data_batch_3")
    assert images.shape == (2, 3, 32, 32) and len(labels) == 2
    assert not (tmp_path / "out" / "evil").exists() and not (tmp_path / "evil").exists()


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(
    "payload",
    [
        {"data": Exploit()},
        {"data": np.array([object()], dtype=object)},
        {"data": __import__("collections").OrderedDict()},
    ],
)
def test_safe_unpickler_refuses_arbitrary_globals(payload: object) -> None:
    with pytest.raises(pickle.UnpicklingError):
        safe_unpickle(pickle.dumps(payload, protocol=2))


def test_safe_unpickler_reads_arrays_of_both_protocols() -> None:
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    for protocol in (2, 4, 5):
        restored = safe_unpickle(pickle.dumps({"a": array, "b": [1, "x"]}, protocol=protocol))
        np.testing.assert_array_equal(restored["a"], array)
        assert restored["b"] == [1, "x"]


def python2_cifar_pickle(pixels: bytes) -> bytes:
    """A hand-assembled pickle as Python 2 wrote the real CIFAR batches: protocol 2,
    ``numpy.core.multiarray`` and the array data as a Python 2 ``str`` (SHORT_BINSTRING)."""
    assert len(pixels) == 6
    return (
        b"\x80\x02}q\x00(U\x04dataq\x01cnumpy.core.multiarray\n_reconstruct\nq\x02"
        b"cnumpy\nndarray\nq\x03K\x00\x85U\x01b\x87Rq\x04(K\x01K\x02K\x03\x86"
        b"cnumpy\ndtype\nq\x05U\x02u1K\x00K\x01\x87R(K\x03U\x01|NNN"
        b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x06" + pixels + b"tb"
        b"U\x06labels]q\x06(K\x01K\x02eu."
    )


def test_safe_unpickler_reads_python2_cifar_pickles() -> None:
    restored = safe_unpickle(python2_cifar_pickle(bytes(range(250, 256))))
    np.testing.assert_array_equal(restored["data"], [[250, 251, 252], [253, 254, 255]])
    assert restored["data"].dtype == np.uint8 and restored["labels"] == [1, 2]


def test_damaged_cifar_batch(tmp_path: Path) -> None:
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"labels": [1]}, protocol=2))
    with pytest.raises(DatasetError, match="not a valid CIFAR-10 batch"):
        read_cifar_batch(path)


def test_svhn_mat(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(32, 32, 3, 4), dtype=np.uint8)  # the .mat layout
    labels = np.array([[10], [1], [9], [10]], dtype=np.uint8)
    folder = tmp_path / "builtin" / "SVHN"
    folder.mkdir(parents=True)
    savemat(folder / "train_32x32.mat", {"X": images, "y": labels})
    dataset = load_builtin("svhn", tmp_path)
    assert dataset.X.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(dataset.y, [0, 1, 9, 0])
    # Pixel (row 5, column 7, channel 2) of image 1.
    assert dataset.X[1, 2, 5, 7] == images[5, 7, 2, 1]


def md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def test_fetch_file_downloads_verifies_and_skips_existing(tmp_path: Path) -> None:
    source = tmp_path / "remote.bin"
    source.write_bytes(b"payload")
    destination = tmp_path / "cache" / "file.bin"
    urls = ("file:///nonexistent/remote.bin", source.as_uri())
    assert fetch_file(urls, destination, md5(b"payload")) == destination
    assert destination.read_bytes() == b"payload"
    source.write_bytes(b"changed")  # an existing file is not fetched again
    fetch_file(urls, destination, md5(b"changed"))
    assert destination.read_bytes() == b"payload"


def test_fetch_file_checksum_mismatch_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "remote.bin"
    source.write_bytes(b"tampered")
    destination = tmp_path / "cache" / "file.bin"
    with pytest.raises(DatasetError, match="checksum mismatch"):
        fetch_file((source.as_uri(),), destination, md5(b"original"))
    assert [p.name for p in destination.parent.iterdir() if not p.name.endswith(".lock")] == []


def test_missing_files_without_network_give_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dynas_service.data import torchvision_sets

    offline = torchvision_sets.RemoteFile(
        "train_32x32.mat", ("http://127.0.0.1:9/unreachable",), "0" * 32
    )
    monkeypatch.setattr(torchvision_sets, "SVHN_TRAIN", offline)
    with pytest.raises(DatasetError, match=r"no internet access.*place the file at"):
        load_builtin("svhn", tmp_path)
