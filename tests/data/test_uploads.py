"""parse_upload: the three formats round-trip, and every validation failure is a DatasetError."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from dynas_service.data import DatasetError, parse_upload
from dynas_service.data.uploads import dataset_name


def npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def table(n: int = 30, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "f1": rng.normal(size=n),
            "f2": rng.integers(0, 5, size=n),
            "label": np.where(np.arange(n) % 3 == 0, "cat", "dog"),
            "value": rng.normal(size=n) * 10,
        }
    )


def test_npz_round_trip_tabular_classification() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 5))
    y = np.array([3, 7] * 20)
    dataset = parse_upload(npz_bytes(X=X, y=y), "my data.npz")
    assert dataset.info.task == "classification"
    assert dataset.info.input_shape == (5,) and dataset.info.n_features == 5
    assert dataset.info.class_names == ("3", "7") and dataset.info.n_classes == 2
    np.testing.assert_array_equal(dataset.y, (y == 7).astype(np.int64))
    np.testing.assert_allclose(dataset.X, X.astype(np.float32))
    assert dataset.X.dtype == np.float32 and dataset.y.dtype == np.int64
    assert dataset.info.name == "my data" and dataset.info.id == ""


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((20, 6, 7), (1, 6, 7)), ((20, 3, 4, 4), (3, 4, 4)), ((20,), (1,))],
)
def test_npz_image_shapes(shape: tuple[int, ...], expected: tuple[int, ...]) -> None:
    X = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    dataset = parse_upload(npz_bytes(X=X, y=np.arange(20) % 2), "img.npz")
    assert dataset.info.input_shape == expected
    assert dataset.X.shape == (20, *expected)
    np.testing.assert_array_equal(dataset.X.reshape(20, -1), X.reshape(20, -1))


def test_npz_regression_inferred_and_overridable() -> None:
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.linspace(0, 1, 30)
    assert parse_upload(npz_bytes(X=X, y=y), "r.npz").info.task == "regression"
    labels = np.arange(30) % 3
    assert parse_upload(npz_bytes(X=X, y=labels), "c.npz").info.task == "classification"
    forced = parse_upload(npz_bytes(X=X, y=labels), "c.npz", task="regression")
    assert forced.info.task == "regression" and forced.info.n_classes is None
    np.testing.assert_array_equal(forced.y, labels.astype(np.float32))


def test_many_distinct_integers_are_regression() -> None:
    X = np.zeros((100, 1)) + np.arange(100)[:, None]
    y = np.arange(100) % 60  # 60 distinct values > 50
    assert parse_upload(npz_bytes(X=X, y=y), "r.npz").info.task == "regression"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_table_round_trip(fmt: str) -> None:
    frame = table()
    content = csv_bytes(frame) if fmt == "csv" else parquet_bytes(frame)
    dataset = parse_upload(content, f"t.{fmt}", target="label")
    assert dataset.info.task == "classification" and dataset.info.class_names == ("cat", "dog")
    assert dataset.info.input_shape == (3,)  # f1, f2, value
    np.testing.assert_array_equal(dataset.y, (frame["label"] == "dog").to_numpy())
    np.testing.assert_allclose(dataset.X[:, 0], frame["f1"].to_numpy(), rtol=1e-6)
    numeric = frame.drop(columns=["label"])
    content = csv_bytes(numeric) if fmt == "csv" else parquet_bytes(numeric)
    default = parse_upload(content, f"t.{fmt}")
    assert default.info.task == "regression"  # the last column, "value", is continuous
    assert default.info.input_shape == (2,)
    np.testing.assert_allclose(default.y, numeric["value"].to_numpy(), rtol=1e-6)


def test_csv_string_labels_cannot_be_regression() -> None:
    with pytest.raises(DatasetError, match="regression target must be numeric"):
        parse_upload(csv_bytes(table()), "t.csv", target="label", task="regression")


def test_fractional_labels_cannot_be_classification() -> None:
    X = np.zeros((20, 2))
    with pytest.raises(DatasetError, match="fractional"):
        parse_upload(npz_bytes(X=X, y=np.linspace(0, 1, 20)), "a.npz", task="classification")


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "a.csv", "empty"),
        (b"a,b\n", "a.csv", "no data rows"),
        (b"\n", "a.csv", "no header"),
        (b"a,b,c\n1,2,3\n4,5,6,7\n", "a.csv", "ragged"),
        (b"a,b,c\n" + b"1,2,0\n" * 10 + b"4,5\n", "a.csv", "line 12 has 2 fields"),
        (b"a,b,c\n" + b"1,,0\n1,2,1\n" * 10, "a.csv", "missing values .* columns b"),
        (b"a,b,c\n" + b"1,inf,0\n1,2,1\n" * 10, "a.csv", "NaN or infinite"),
        (b"a,b,c\n" + b"x,1,0\ny,2,1\n" * 10, "a.csv", "non-numeric feature columns: a"),
        (b"a\n" + b"1\n" * 20, "a.csv", "at least one feature column"),
        (b"a,b\n" + b"1,5\n" * 20, "a.csv", "single class"),
        (b"a,b\n" + b"1,0\n2,1\n", "a.csv", "only 2 samples"),
        (b"a,b\n" + b"1,0\n" * 20 + b"2,1\n", "a.csv", "fewer than 2 samples"),
        (b"a,b\n" + b"1,0\n2,1\n" * 10 + b"3,\n", "a.csv", "target column 'b' has missing"),
        (b"whatever", "a.xlsx", "unsupported file type '.xlsx'"),
        (b"whatever", "noext", "unsupported file type"),
        (b"not a zip", "a.npz", "not a valid .npz"),
        (b"not parquet", "a.parquet", "not a valid Parquet"),
    ],
)
def test_invalid_files(content: bytes, filename: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_upload(content, filename)


def test_unknown_target_column() -> None:
    with pytest.raises(DatasetError, match=r"unknown target column 'nope'.*'f1'"):
        parse_upload(csv_bytes(table()), "t.csv", target="nope")


def test_unknown_task() -> None:
    with pytest.raises(DatasetError, match="task='clustering'"):
        parse_upload(csv_bytes(table()), "t.csv", task="clustering")


def test_non_numeric_columns_are_all_named() -> None:
    frame = table().assign(color="red", size="L")
    with pytest.raises(DatasetError, match="label, color, size"):
        parse_upload(csv_bytes(frame), "t.csv", target="value")


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((10, 2))}, r"lacks array\(s\) \['y'\]"),
        ({"X": np.zeros((10, 2)), "y": np.zeros(9)}, "10 rows but y has 9"),
        ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, "empty"),
        ({"X": np.full((20, 2), np.nan), "y": np.arange(20) % 2}, "NaN or infinite"),
        ({"X": np.full((20, 2), 1e300), "y": np.arange(20) % 2}, "float32 range"),
        ({"X": np.array([["a", "b"]] * 20), "y": np.arange(20) % 2}, "X must be numeric"),
        ({"X": np.zeros((20, 1, 1, 1, 1)), "y": np.arange(20) % 2}, "expected"),
        ({"X": np.zeros((20, 2)), "y": np.zeros((20, 2))}, "one-dimensional"),
        ({"X": np.zeros((20, 2)), "y": np.zeros(20)}, "single class"),
    ],
)
def test_invalid_npz(arrays: dict[str, np.ndarray], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_upload(npz_bytes(**arrays), "a.npz")


def test_npz_object_arrays_are_refused_without_unpickling() -> None:
    content = npz_bytes(X=np.array([{"a": 1}] * 20, dtype=object), y=np.arange(20) % 2)
    with pytest.raises(DatasetError, match="Python objects"):
        parse_upload(content, "a.npz")


def test_npz_size_bound_is_checked_from_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dynas_service.data.validation.MAX_VALUES", 100)
    with pytest.raises(DatasetError, match="at most 100"):
        parse_upload(npz_bytes(X=np.zeros((20, 6)), y=np.arange(20) % 2), "a.npz")


def test_npz_target_argument_is_refused() -> None:
    content = npz_bytes(X=np.zeros((20, 2)), y=np.arange(20) % 2)
    with pytest.raises(DatasetError, match=r"only applies to \.csv"):
        parse_upload(content, "a.npz", target="y")


def test_npz_string_labels() -> None:
    y = np.array(["b", "a"] * 10)
    dataset = parse_upload(npz_bytes(X=np.zeros((20, 2)), y=y), "a.npz")
    assert dataset.info.class_names == ("a", "b")
    np.testing.assert_array_equal(dataset.y, (y == "b").astype(np.int64))


def test_dataset_name_is_never_a_path() -> None:
    assert dataset_name("../../etc/passwd.csv") == "passwd"
    assert dataset_name("C:\\Users\\x\\data.csv") == "data"
    assert dataset_name("a<b>|c.csv") == "a_b_c"
    assert dataset_name("") == "upload"
    assert dataset_name("...") == "upload"
