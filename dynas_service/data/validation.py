"""Turn raw arrays into a validated `Dataset`, with errors a person can act on.

Everything a user can upload passes through `build_dataset`: shapes, sizes, finiteness,
the task (inferred or given) and the label encoding are checked and normalized here once.
"""

from __future__ import annotations

import math

import numpy as np

from dynas_service.data.dataset import TASKS, Dataset, DatasetError, DatasetInfo, Task

MAX_VALUES = 50_000_000
"""Largest accepted number of feature values (N x features): ~200 MB as float32."""
MIN_SAMPLES = 10
"""Fewest rows that still give a train and a validation part."""
MAX_INFERRED_CLASSES = 50
"""Integer labels with at most this many distinct values (and fewer than half the rows)
are inferred to be classes."""


def build_dataset(
    X: np.ndarray,
    y: np.ndarray,
    *,
    name: str,
    dataset_id: str = "",
    task: str | None = None,
) -> Dataset:
    """Validate ``X``/``y`` and return a `Dataset` (float32 features, encoded labels).

    ``X`` may be ``(N,)`` (one feature), ``(N, F)``, ``(N, H, W)`` (becomes ``(N, 1, H, W)``)
    or ``(N, C, H, W)``; ``y`` is ``(N,)`` or ``(N, 1)``, numbers or strings. ``task`` is
    ``"classification"``, ``"regression"`` or ``None`` (inferred, see `infer_task`).
    Raises `DatasetError` naming the problem.
    """
    if task is not None and task not in TASKS:
        raise DatasetError(f"task={task!r} is not one of {', '.join(TASKS)}")
    features = _features(X)
    labels = _labels(y)
    if len(labels) != len(features):
        raise DatasetError(
            f"X has {len(features)} rows but y has {len(labels)}: they must have the same length"
        )
    encoded, final_task, class_names = encode_target(labels, task)
    _check_sample_counts(encoded, final_task, class_names)
    info = DatasetInfo(
        id=dataset_id,
        name=name,
        task=final_task,
        n_samples=len(features),
        n_features=math.prod(features.shape[1:]),
        input_shape=tuple(int(d) for d in features.shape[1:]),
        n_classes=None if class_names is None else len(class_names),
        class_names=class_names,
    )
    return Dataset(info=info, X=features, y=encoded)


def check_size(n_values: int, what: str = "the dataset") -> None:
    """Refuse more than `MAX_VALUES` feature values before anything large is allocated."""
    if n_values > MAX_VALUES:
        raise DatasetError(
            f"{what} has {n_values:,} values; at most {MAX_VALUES:,} are accepted "
            "(use fewer rows or features)"
        )


def _features(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise DatasetError(f"X must be numeric, got dtype {X.dtype}")
    if X.ndim == 0 or X.shape[0] == 0:
        raise DatasetError("the dataset is empty: X has no rows")
    if X.ndim == 1:
        X = X[:, None]
    elif X.ndim == 3:
        X = X[:, None, :, :]
    elif X.ndim > 4:
        raise DatasetError(
            f"X has shape {X.shape}; expected (N, features), (N, H, W) or (N, C, H, W)"
        )
    if X.size == 0:
        raise DatasetError(f"X has shape {X.shape}: no features")
    check_size(X.size)
    with np.errstate(over="ignore"):  # overflow to inf is reported just below
        features = np.ascontiguousarray(X, dtype=np.float32)
    bad = ~np.isfinite(features)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise DatasetError(
            f"X has {int(bad.sum())} NaN or infinite values (first in row {row}); "
            "remove or impute them (values beyond the float32 range count as infinite)"
        )
    return features


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DatasetError(f"y must be one-dimensional (one target per row), got shape {y.shape}")
    return y


def infer_task(labels: np.ndarray) -> Task:
    """Classification for strings/booleans or few distinct integer values, else regression."""
    if labels.dtype.kind in "OUSb":
        return "classification"
    if not np.all(np.isfinite(labels)) or not np.all(np.mod(labels, 1) == 0):
        return "regression"
    n_distinct = len(np.unique(labels))
    if n_distinct <= MAX_INFERRED_CLASSES and n_distinct < 0.5 * len(labels):
        return "classification"
    return "regression"


def encode_target(
    labels: np.ndarray, task: str | None
) -> tuple[np.ndarray, Task, tuple[str, ...] | None]:
    """Return ``(y, task, class_names)``: int64 indices 0..K-1 + names, or float32 targets."""
    if labels.dtype.kind not in "biufOUS":
        raise DatasetError(f"y has unsupported dtype {labels.dtype}; use numbers or strings")
    if labels.dtype.kind == "O":
        labels = _object_labels(labels)
    final_task: Task = infer_task(labels) if task is None else task  # type: ignore[assignment]
    if final_task == "regression":
        return _regression_target(labels), final_task, None
    encoded, names = _class_indices(labels)
    return encoded, final_task, names


def _object_labels(labels: np.ndarray) -> np.ndarray:
    """Object columns (pandas strings, mixed) become str; missing entries are an error."""
    missing = [i for i, v in enumerate(labels) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise DatasetError(
            f"the target has {len(missing)} missing values (first in row {missing[0]}); "
            "every row needs a target"
        )
    return labels.astype(str)


def _regression_target(labels: np.ndarray) -> np.ndarray:
    if labels.dtype.kind in "US":
        example = labels[0]
        raise DatasetError(
            f"a regression target must be numeric, but it holds values such as {example!r}; "
            "use task=classification or a numeric target column"
        )
    target = labels.astype(np.float32)
    if not np.all(np.isfinite(target)):
        raise DatasetError("the target has NaN or infinite values; every row needs a number")
    return target


def _class_indices(labels: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)):
            raise DatasetError("the target has NaN or infinite values; every row needs a label")
        if not np.all(np.mod(labels, 1) == 0):
            raise DatasetError(
                "classification labels must be integers or strings, but the target has "
                "fractional values; use task=regression for a continuous target"
            )
        labels = labels.astype(np.int64)
    values, indices = np.unique(labels, return_inverse=True)
    names = tuple(str(v.item()) if hasattr(v, "item") else str(v) for v in values)
    return indices.astype(np.int64).reshape(-1), names


def _check_sample_counts(y: np.ndarray, task: Task, class_names: tuple[str, ...] | None) -> None:
    if len(y) < MIN_SAMPLES:
        raise DatasetError(
            f"only {len(y)} samples; at least {MIN_SAMPLES} are needed to split off a "
            "validation set"
        )
    if task == "regression" or class_names is None:
        return
    if len(class_names) < 2:
        raise DatasetError(
            f"the target has a single class ({class_names[0]!r}); classification needs at "
            "least two (or use task=regression)"
        )
    counts = np.bincount(y, minlength=len(class_names))
    rare = [class_names[k] for k in np.flatnonzero(counts < 2)]
    if rare:
        shown = ", ".join(repr(c) for c in rare[:10])
        raise DatasetError(
            f"classes with fewer than 2 samples cannot be split into train and validation: "
            f"{shown}; add samples or drop these rows"
        )
