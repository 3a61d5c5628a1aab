"""Seeded train/validation splits and per-run samples, stratified for classification.

Stratification uses one *interleaved order*: each class is shuffled, its k-th of n members
gets the position ``(k + u_c) / n`` with one random offset ``u_c`` per class, and all rows are
sorted by position. Every prefix of that order then holds each class in proportion, within
one row, so "the first m rows" is a stratified sample of any size m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynas_service.data.dataset import Dataset, DatasetError


@dataclass(frozen=True, eq=False)
class Split:
    """Training and validation arrays (copies), plus the row indices into the dataset."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray


def stratified_order(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation of ``range(len(y))`` whose every prefix is class-balanced (see module)."""
    position = np.empty(len(y), dtype=np.float64)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        position[members] = (np.arange(len(members)) + rng.random()) / len(members)
    # Ties between classes are broken by a random key, not by class order.
    return np.lexsort((rng.random(len(y)), position))


def _order(dataset: Dataset, index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if dataset.info.task == "classification":
        return index[stratified_order(dataset.y[index], rng)]
    return rng.permutation(index)


def _check_fraction(name: str, value: float, *, allow_one: bool) -> None:
    upper_ok = value <= 1.0 if allow_one else value < 1.0
    if not (value > 0.0 and upper_ok):
        interval = "(0, 1]" if allow_one else "(0, 1)"
        raise ValueError(f"{name}={value!r} must lie in {interval}")


def train_validation_split(
    dataset: Dataset,
    *,
    validation_fraction: float,
    sample: float = 1.0,
    seed: int | np.random.Generator,
) -> Split:
    """Take a ``sample`` fraction of the rows, then split ``validation_fraction`` of them off.

    Both steps are stratified for classification and uniformly random for regression; the
    same ``seed`` gives the same split. Raises `ValueError` for fractions outside their range
    and `DatasetError` when the sample is too small for a non-empty train and validation part.
    """
    _check_fraction("validation_fraction", validation_fraction, allow_one=False)
    _check_fraction("sample", sample, allow_one=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n_total = dataset.info.n_samples
    n_sample = round(sample * n_total)
    n_val = round(validation_fraction * n_sample)
    if n_sample < 2 or not 0 < n_val < n_sample:
        raise DatasetError(
            f"sample={sample} of {n_total} rows gives {n_sample} rows, too few for a "
            f"validation_fraction={validation_fraction} split; raise sample or use more data"
        )
    everything = np.arange(n_total)
    chosen = everything if n_sample == n_total else _order(dataset, everything, rng)[:n_sample]
    ordered = _order(dataset, np.sort(chosen), rng)
    val_index, train_index = np.sort(ordered[:n_val]), np.sort(ordered[n_val:])
    return Split(
        X_train=dataset.X[train_index],
        y_train=dataset.y[train_index],
        X_val=dataset.X[val_index],
        y_val=dataset.y[val_index],
        train_index=train_index,
        val_index=val_index,
    )
