"""train_validation_split: seeded determinism, stratification, sampling, bad fractions."""

from __future__ import annotations

import numpy as np
import pytest

from dynas_service.data import DatasetError, build_dataset, train_validation_split
from dynas_service.data.dataset import Dataset
from dynas_service.data.splits import stratified_order


def imbalanced(n_per_class: tuple[int, ...] = (500, 300, 150, 50)) -> Dataset:
    y = np.concatenate([np.full(n, k) for k, n in enumerate(n_per_class)])
    X = np.arange(len(y), dtype=np.float32)[:, None] * np.ones((1, 3), dtype=np.float32)
    return build_dataset(X, y, name="imbalanced", task="classification")


def regression(n: int = 200) -> Dataset:
    X = np.arange(n, dtype=np.float32)[:, None]
    return build_dataset(X, np.linspace(0, 1, n), name="reg", task="regression")


def test_same_seed_same_split_other_seed_other_split() -> None:
    data = imbalanced()
    a = train_validation_split(data, validation_fraction=0.2, sample=0.5, seed=3)
    b = train_validation_split(data, validation_fraction=0.2, sample=0.5, seed=3)
    c = train_validation_split(data, validation_fraction=0.2, sample=0.5, seed=4)
    np.testing.assert_array_equal(a.val_index, b.val_index)
    np.testing.assert_array_equal(a.train_index, b.train_index)
    assert not np.array_equal(a.val_index, c.val_index)
    gen = train_validation_split(data, validation_fraction=0.2, seed=np.random.default_rng(3))
    assert len(gen.val_index) == 200


def test_split_is_a_partition_with_matching_rows() -> None:
    data = imbalanced()
    split = train_validation_split(data, validation_fraction=0.25, seed=0)
    both = np.concatenate([split.train_index, split.val_index])
    assert sorted(both.tolist()) == list(range(data.info.n_samples))
    assert len(split.val_index) == 250
    np.testing.assert_array_equal(split.X_val, data.X[split.val_index])
    np.testing.assert_array_equal(split.y_train, data.y[split.train_index])


@pytest.mark.parametrize(("fraction", "sample"), [(0.2, 1.0), (0.1, 0.3), (0.5, 0.05)])
def test_stratified_counts_are_proportional(fraction: float, sample: float) -> None:
    data = imbalanced()
    split = train_validation_split(data, validation_fraction=fraction, sample=sample, seed=7)
    n_sample = round(sample * data.info.n_samples)
    sampled = np.bincount(np.concatenate([split.y_train, split.y_val]), minlength=4)
    expected_sampled = sample * np.bincount(data.y)
    assert np.all(np.abs(sampled - expected_sampled) <= 1), sampled
    assert sampled.sum() == n_sample
    val = np.bincount(split.y_val, minlength=4)
    assert np.all(np.abs(val - fraction * sampled) <= 1), (val, sampled)


def test_every_prefix_of_the_stratified_order_is_balanced() -> None:
    y = np.repeat([0, 1, 2], [60, 30, 10])
    order = stratified_order(y, np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(100))
    for m in (1, 7, 10, 33, 50, 99):
        counts = np.bincount(y[order[:m]], minlength=3)
        assert np.all(np.abs(counts - m * np.array([0.6, 0.3, 0.1])) <= 1), (m, counts)


def test_regression_split_is_random_and_sized() -> None:
    data = regression()
    split = train_validation_split(data, validation_fraction=0.2, sample=0.5, seed=1)
    assert len(split.val_index) == 20 and len(split.train_index) == 80
    # A random subset, not the first rows.
    assert split.train_index.max() > 120 and split.train_index.min() < 80
    assert split.y_val.dtype == np.float32


@pytest.mark.parametrize(
    ("fraction", "sample"), [(0.0, 1.0), (1.0, 1.0), (-0.1, 1.0), (0.2, 0.0), (0.2, 1.5)]
)
def test_fractions_out_of_range(fraction: float, sample: float) -> None:
    with pytest.raises(ValueError, match="must lie in"):
        train_validation_split(regression(), validation_fraction=fraction, sample=sample, seed=0)


def test_too_few_samples_for_the_split() -> None:
    with pytest.raises(DatasetError, match="too few"):
        train_validation_split(regression(), validation_fraction=0.2, sample=0.01, seed=0)
    with pytest.raises(DatasetError, match="too few"):
        train_validation_split(regression(20), validation_fraction=0.01, seed=0)
