"""The benchmark's datasets, each named the way the dynas engine names it.

``digits`` (8x8 images, cnn) and ``puzzle8`` (regression, mlp, a sample) are built-ins;
``breast_cancer`` (scikit-learn's bundled table, mlp) goes through the same path as a user's
upload (`parse_upload` -> `DatasetStore`) so the engine can name it by its upload id.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from benchmarks.anytime.config import VALIDATION_FRACTION
from dynas_service.data import (
    Dataset,
    DatasetStore,
    Split,
    parse_upload,
    resolve_dataset,
    train_validation_split,
    uploads_root,
)

KNOWN_DATASETS = ("digits", "puzzle8", "breast_cancer")
UPLOAD_NAME = "breast_cancer"


@dataclass(frozen=True)
class BenchDataset:
    """One dataset of the benchmark.

    ``key``: the benchmark's name; ``ref``: what the engine's ``SearchRequest.dataset``
    takes (built-in name or upload id); ``family``: the model family used on it;
    ``sample``: fraction of rows used (before the train/validation split).
    """

    key: str
    ref: str
    family: str
    sample: float
    dataset: Dataset

    @property
    def classification(self) -> bool:
        return self.dataset.info.task == "classification"

    @property
    def metric_name(self) -> str:
        return "accuracy" if self.classification else "rmse"

    def split(self, seed: int) -> Split:
        """The train/validation split of ``seed`` (the one the dynas engine uses too)."""
        return train_validation_split(
            self.dataset, validation_fraction=VALIDATION_FRACTION, sample=self.sample, seed=seed
        )


def prepare_dataset(key: str, data_dir: Path, *, puzzle8_sample: float) -> BenchDataset:
    """Load (and for ``breast_cancer`` upload once) the dataset ``key`` under ``data_dir``."""
    if key == "digits":
        return BenchDataset(key, key, "cnn", 1.0, resolve_dataset(key, data_dir))
    if key == "puzzle8":
        return BenchDataset(key, key, "mlp", puzzle8_sample, resolve_dataset(key, data_dir))
    if key == "breast_cancer":
        ref = upload_breast_cancer(data_dir)
        return BenchDataset(key, ref, "mlp", 1.0, resolve_dataset(ref, data_dir))
    raise ValueError(f"unknown benchmark dataset {key!r}; choose from {KNOWN_DATASETS}")


def upload_breast_cancer(data_dir: Path) -> str:
    """The upload id of scikit-learn's breast_cancer table in ``data_dir`` (added once)."""
    store = DatasetStore(uploads_root(data_dir))
    for info in store.list():
        if info.name == UPLOAD_NAME:
            return info.id
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    dataset = parse_upload(
        buffer.getvalue().encode(), f"{UPLOAD_NAME}.csv", target="target", task="classification"
    )
    return store.add(dataset).id
