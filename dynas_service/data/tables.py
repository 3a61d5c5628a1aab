"""CSV and Parquet tables -> `Dataset`: the target column is ``y``, the rest are features.

CSV goes through pandas (after a cheap bound on its cell count), Parquet through pyarrow
(after checking its row and column counts in the footer). Every problem is a `DatasetError`.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from dynas_service.data.dataset import Dataset, DatasetError
from dynas_service.data.validation import build_dataset, check_size


def parse_table(
    content: bytes, extension: str, *, name: str, target: str | None, task: str | None
) -> Dataset:
    """Read a ``.csv`` or ``.parquet`` table and validate it (see `parse_upload`)."""
    frame = _read_csv(content) if extension == ".csv" else _read_parquet(content)
    try:
        return _frame_to_dataset(frame, name=name, target=target, task=task)
    except DatasetError as error:
        # pandas pads short CSV rows with NaN: name the ragged row instead of the NaN.
        ragged = find_ragged_row(content) if extension == ".csv" else None
        if ragged:
            raise DatasetError(ragged) from error
        raise


def _read_csv(content: bytes) -> pd.DataFrame:
    # A cheap upper bound on the cell count before pandas allocates anything.
    check_size(content.count(b",") + content.count(b"\n"), "the CSV file")
    try:
        return pd.read_csv(io.BytesIO(content))
    except pd.errors.EmptyDataError as error:
        raise DatasetError("the CSV file has no header and no data") from error
    except pd.errors.ParserError as error:
        raise DatasetError(f"ragged or malformed CSV rows: {error}") from error
    except UnicodeDecodeError as error:
        raise DatasetError("the CSV file is not UTF-8 text") from error


def _read_parquet(content: bytes) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(content))
        meta = parquet.metadata
        check_size(meta.num_rows * meta.num_columns, "the Parquet file")
        return parquet.read().to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise DatasetError(f"not a valid Parquet file: {error}") from error


def _frame_to_dataset(
    frame: pd.DataFrame, *, name: str, target: str | None, task: str | None
) -> Dataset:
    if frame.shape[0] == 0:
        raise DatasetError("the table has a header but no data rows")
    columns = [str(c) for c in frame.columns]
    frame.columns = pd.Index(columns)
    if len(columns) < 2:
        raise DatasetError("the table needs at least one feature column besides the target")
    target = columns[-1] if target is None else target
    if target not in columns:
        shown = ", ".join(repr(c) for c in columns[:20])
        raise DatasetError(f"unknown target column {target!r}; the columns are {shown}")
    features = frame.drop(columns=[target])
    non_numeric = [str(c) for c in features.columns if not _is_numeric(features[c])]
    if non_numeric:
        raise DatasetError(
            f"non-numeric feature columns: {', '.join(non_numeric[:20])}; convert them to "
            "numbers (e.g. one-hot encode categories) or drop them"
        )
    X = features.to_numpy(dtype=np.float64, na_value=np.nan)
    _check_missing(features, X)
    labels = frame[target]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise DatasetError(f"the target column {target!r} has missing values (first in row {row})")
    return build_dataset(X, _target_array(labels), name=name, task=task)


def _is_numeric(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column))


def _target_array(labels: pd.Series) -> np.ndarray:
    """Booleans stay booleans, numbers become float64 (integer values keep their meaning
    for task inference), anything else becomes strings."""
    if pd.api.types.is_bool_dtype(labels):
        return labels.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(labels):
        return labels.to_numpy(dtype=np.float64)
    return labels.astype(str).to_numpy(dtype=str)


def _check_missing(features: pd.DataFrame, X: np.ndarray) -> None:
    missing = np.isnan(X)
    if missing.any():
        columns = [str(c) for c in features.columns[missing.any(axis=0)]]
        row = int(np.argwhere(missing)[0][0])
        raise DatasetError(
            f"missing values (empty or NaN cells) in columns {', '.join(columns[:20])} "
            f"(first in data row {row}); fill or drop them"
        )


def find_ragged_row(content: bytes) -> str | None:
    """Describe the first CSV row whose field count differs from the header's, if any."""
    try:
        reader = csv.reader(io.StringIO(content.decode("utf-8")))
        header = next(reader, None)
        for line, row in enumerate(reader, start=2):
            if row and header is not None and len(row) != len(header):
                return (
                    f"ragged CSV: line {line} has {len(row)} fields but the header has "
                    f"{len(header)}; every row needs one value per column"
                )
    except (UnicodeDecodeError, csv.Error):
        return None
    return None
