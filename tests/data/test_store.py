"""DatasetStore and resolve_dataset: persistence, listing, deletion, and no path ever."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dynas_service.data import (
    BUILTIN_INFO,
    DatasetError,
    DatasetStore,
    UnknownDatasetError,
    build_dataset,
    dataset_info,
    is_dataset_id,
    resolve_dataset,
    uploads_root,
)
from dynas_service.data.dataset import Dataset


def small_dataset(seed: int = 0, task: str | None = None) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 2, 3, 3))
    y = np.array(["x", "y", "z"] * 10)
    return build_dataset(X, y, name=f"small{seed}", task=task)


def test_add_get_load_round_trip(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "uploads")
    original = small_dataset()
    info = store.add(original)
    assert is_dataset_id(info.id)
    assert info == store.get(info.id)
    assert info.class_names == ("x", "y", "z") and info.input_shape == (2, 3, 3)
    loaded = store.load(info.id)
    np.testing.assert_array_equal(loaded.X, original.X)
    np.testing.assert_array_equal(loaded.y, original.y)
    assert loaded.info == info
    meta = json.loads((tmp_path / "uploads" / info.id / "meta.json").read_text())
    assert meta["id"] == info.id and "created_at" in meta


def test_list_newest_first_and_delete(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    assert store.list() == []
    first = store.add(small_dataset(1))
    second = store.add(small_dataset(2))
    assert first.id != second.id
    assert [info.id for info in store.list()] == [second.id, first.id]
    store.delete(first.id)
    assert [info.id for info in store.list()] == [second.id]
    with pytest.raises(UnknownDatasetError):
        store.get(first.id)
    with pytest.raises(UnknownDatasetError):
        store.delete(first.id)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_list_skips_foreign_and_damaged_entries(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    good = store.add(small_dataset())
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "0123456789ab").mkdir()  # an id-shaped folder without meta.json
    broken = tmp_path / "ba5eba11ba5e"
    broken.mkdir()
    (broken / "meta.json").write_text("{not json")
    assert [info.id for info in store.list()] == [good.id]
    with pytest.raises(DatasetError, match="damaged"):
        store.get("ba5eba11ba5e")


@pytest.mark.parametrize(
    "bad_id",
    ["../etc", "/etc/passwd", "..", "", "ABCDEF012345", "0123456789ab/../x", "0123456789abc",
     "0123456789a", "0123456789ab\n"],
)  # fmt: skip
def test_path_like_ids_are_rejected(tmp_path: Path, bad_id: str) -> None:
    store = DatasetStore(tmp_path)
    assert not is_dataset_id(bad_id)
    for call in (store.get, store.load, store.delete):
        with pytest.raises(UnknownDatasetError, match="not a dataset id"):
            call(bad_id)
    with pytest.raises(UnknownDatasetError):
        resolve_dataset(bad_id, tmp_path)


def test_resolve_builtin_and_upload(tmp_path: Path) -> None:
    digits = resolve_dataset("digits", tmp_path)
    assert digits.info == BUILTIN_INFO["digits"]
    info = DatasetStore(uploads_root(tmp_path)).add(small_dataset(task="classification"))
    loaded = resolve_dataset(info.id, tmp_path)
    assert loaded.info == info
    assert dataset_info(info.id, tmp_path) == info
    assert dataset_info("cifar10", tmp_path).input_shape == (3, 32, 32)


def test_resolve_refuses_paths_and_unknown_names(tmp_path: Path) -> None:
    stored = tmp_path / "data.npz"
    np.savez(stored, X=np.zeros((20, 2)), y=np.arange(20) % 2)
    for name in (str(stored), "data.npz", "imagenet", "0123456789ab"):
        with pytest.raises(UnknownDatasetError):
            resolve_dataset(name, tmp_path)
        with pytest.raises(UnknownDatasetError):
            dataset_info(name, tmp_path)
