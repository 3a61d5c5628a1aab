"""Dataset / DatasetInfo invariants and build_dataset's task inference."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from dynas_service.data import DatasetError, DatasetInfo, build_dataset
from dynas_service.data.dataset import Dataset
from dynas_service.data.validation import infer_task


def test_info_json_round_trip() -> None:
    info = DatasetInfo("abc", "n", "classification", 10, 12, (3, 2, 2), 2, ("a", "b"))
    restored = DatasetInfo.from_dict(json.loads(json.dumps(info.to_dict())))
    assert restored == info
    regression = DatasetInfo("r", "r", "regression", 10, 4, (4,), None)
    assert DatasetInfo.from_dict(regression.to_dict()) == regression


@pytest.mark.parametrize(
    "broken",
    [{"id": "x"}, {**DatasetInfo("a", "a", "regression", 1, 1, (1,), None).to_dict(), "task": "x"}],
)
def test_info_from_malformed_dict(broken: dict) -> None:
    with pytest.raises(DatasetError, match="malformed"):
        DatasetInfo.from_dict(broken)


def test_dataset_checks_its_arrays_against_its_info() -> None:
    info = DatasetInfo("a", "a", "regression", 3, 2, (2,), None)
    Dataset(info, np.zeros((3, 2), np.float32), np.zeros(3, np.float32))
    with pytest.raises(DatasetError, match="shape"):
        Dataset(info, np.zeros((3, 3), np.float32), np.zeros(3, np.float32))
    with pytest.raises(DatasetError, match="float32"):
        Dataset(info, np.zeros((3, 2)), np.zeros(3, np.float32))
    with pytest.raises(DatasetError, match="y of a regression"):
        Dataset(info, np.zeros((3, 2), np.float32), np.zeros(3, np.int64))


def test_dataset_pickles_for_ray() -> None:
    dataset = build_dataset(np.eye(12), np.arange(12) % 2, name="p")
    clone = pickle.loads(pickle.dumps(dataset))
    assert clone.info == dataset.info
    np.testing.assert_array_equal(clone.X, dataset.X)


@pytest.mark.parametrize(
    ("labels", "task"),
    [
        (np.arange(100) % 5, "classification"),
        (np.arange(100) % 5 + 0.0, "classification"),  # integer-valued floats
        (np.arange(100) % 51, "regression"),  # more than 50 distinct values
        (np.arange(20) % 10, "regression"),  # distinct values are half the rows
        (np.arange(20) % 9, "classification"),
        (np.linspace(0, 1, 100), "regression"),
        (np.array(["a", "b"] * 10), "classification"),
        (np.array([True, False] * 10), "classification"),
    ],
)
def test_infer_task(labels: np.ndarray, task: str) -> None:
    assert infer_task(labels) == task


def test_bool_labels_become_two_classes() -> None:
    dataset = build_dataset(np.eye(20), np.array([True, False] * 10), name="b")
    assert dataset.info.class_names == ("False", "True")
    np.testing.assert_array_equal(dataset.y, [1, 0] * 10)


def test_column_vector_labels_are_accepted() -> None:
    dataset = build_dataset(np.eye(20), (np.arange(20) % 2)[:, None], name="c")
    assert dataset.y.shape == (20,)
