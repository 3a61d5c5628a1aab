"""Datasets: built-ins (digits, puzzle8, torchvision sets), validated uploads, splits.

numpy-only at import (pandas, pyarrow, scipy and scikit-learn are imported by the functions
that need them). See ``docs/internals.md`` ("data") for the contract.
"""

from dynas_service.data.builtins import (
    BUILTIN_DATASETS,
    BUILTIN_INFO,
    OFFLINE_DATASETS,
    load_builtin,
    load_digits,
)
from dynas_service.data.dataset import (
    TASKS,
    Dataset,
    DatasetError,
    DatasetInfo,
    Task,
    UnknownDatasetError,
)
from dynas_service.data.splits import Split, train_validation_split
from dynas_service.data.store import (
    DatasetStore,
    dataset_info,
    is_dataset_id,
    resolve_dataset,
    uploads_root,
)
from dynas_service.data.uploads import ACCEPTED_EXTENSIONS, parse_upload
from dynas_service.data.validation import MAX_VALUES, MIN_SAMPLES, build_dataset

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "BUILTIN_DATASETS",
    "BUILTIN_INFO",
    "MAX_VALUES",
    "MIN_SAMPLES",
    "OFFLINE_DATASETS",
    "TASKS",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "DatasetStore",
    "Split",
    "Task",
    "UnknownDatasetError",
    "build_dataset",
    "dataset_info",
    "is_dataset_id",
    "load_builtin",
    "load_digits",
    "parse_upload",
    "resolve_dataset",
    "train_validation_split",
    "uploads_root",
]
