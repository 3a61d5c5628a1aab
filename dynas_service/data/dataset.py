"""The in-memory dataset every other package consumes, and its error type.

A `Dataset` is immutable by convention: loaders build it once and callers only read it.
`X` is always float32 with shape ``(N, *info.input_shape)`` (``(N, F)`` for tabular data,
``(N, C, H, W)`` for images); `y` is int64 class indices ``0..K-1`` for classification and
float32 for regression. Inputs are *raw*: the network standardizes them itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")


class DatasetError(ValueError):
    """Any dataset problem a person can fix: bad file, bad values, unknown name or id.

    The message says what is wrong and what to do about it; the API maps it to ``422``.
    """


class UnknownDatasetError(DatasetError):
    """A name or id that is neither a built-in dataset nor a stored upload (API: ``404``)."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, without its arrays (JSON-safe through `to_dict`).

    ``id`` is the built-in name or the upload id (``""`` until `DatasetStore.add` assigns one);
    ``n_features`` is the product of ``input_shape``; ``n_classes`` is ``None`` for
    regression; ``class_names[k]`` is the original label of class index ``k``.
    """

    id: str
    name: str
    task: Task
    n_samples: int
    n_features: int
    input_shape: tuple[int, ...]
    n_classes: int | None
    class_names: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (tuples become lists)."""
        data = asdict(self)
        data["input_shape"] = list(self.input_shape)
        data["class_names"] = None if self.class_names is None else list(self.class_names)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        """Inverse of `to_dict`; raises `DatasetError` on missing or malformed fields."""
        try:
            task = data["task"]
            if task not in TASKS:
                raise ValueError(f"task={task!r}")
            names = data.get("class_names")
            n_classes = data["n_classes"]
            return cls(
                id=str(data["id"]),
                name=str(data["name"]),
                task=task,
                n_samples=int(data["n_samples"]),
                n_features=int(data["n_features"]),
                input_shape=tuple(int(d) for d in data["input_shape"]),
                n_classes=None if n_classes is None else int(n_classes),
                class_names=None if names is None else tuple(str(n) for n in names),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DatasetError(f"malformed dataset metadata: {error!r}") from error


@dataclass(frozen=True, eq=False)
class Dataset:
    """Arrays plus their `DatasetInfo`; see the module docstring for shapes and dtypes."""

    info: DatasetInfo
    X: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        expected = (self.info.n_samples, *self.info.input_shape)
        if self.X.shape != expected:
            raise DatasetError(f"X has shape {self.X.shape}, its info says {expected}")
        if self.y.shape != (self.info.n_samples,):
            raise DatasetError(f"y has shape {self.y.shape}, expected ({self.info.n_samples},)")
        if self.X.dtype != np.float32:
            raise DatasetError(f"X must be float32, got {self.X.dtype}")
        wanted = np.int64 if self.info.task == "classification" else np.float32
        if self.y.dtype != wanted:
            raise DatasetError(f"y of a {self.info.task} dataset must be {wanted.__name__}")
