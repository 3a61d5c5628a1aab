"""Fast unit tests: names, conversions, the bounded outbox, the UI command line."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from dynas_service.events import BestRecord, EpochRecord
from dynas_service.tracking import default_artifact_location, mlflow_ui_command
from dynas_service.tracking.models import registered_model_name
from dynas_service.tracking.outbox import Outbox
from dynas_service.tracking.pyfunc import prediction_frame
from dynas_service.tracking.records import best_metrics, clean_key, epoch_metrics, flatten_params


def _epoch(**kw: object) -> EpochRecord:
    base = dict(individual_id="i1", trial_id="t0", epoch=2, age=7, t=1.5, metric_name="rmse",
                value=0.3, train_loss=0.5, val_loss=0.6, reg_strength=1e-4,
                layer_sizes=[12, 5, 3], n_parameters=321, epoch_seconds=0.1)  # fmt: skip
    base.update(kw)
    return EpochRecord(**base)  # type: ignore[arg-type]


def test_flatten_params_nests_with_dots_and_keeps_lists_as_json() -> None:
    flat = flatten_params({"a": {"b": 1, "c": {"d": "x"}}, "l": [1, 2], "n": None, "e": {}})
    assert flat == {"a.b": "1", "a.c.d": "x", "l": "[1, 2]", "e": "{}"}


def test_clean_key_replaces_characters_mlflow_rejects() -> None:
    assert clean_key("units/layer_0") == "units/layer_0"
    assert clean_key("a*b?c") == "a_b_c"
    assert len(clean_key("k" * 400)) == 250


def test_epoch_metrics_name_every_value_at_the_age_step() -> None:
    metrics = {m.key: m for m in epoch_metrics(_epoch(), start_ms=1_000_000)}
    assert metrics["rmse"].value == 0.3 and metrics["val_loss"].value == 0.6
    assert metrics["parameters"].value == 321 and metrics["reg_strength"].value == 1e-4
    assert [metrics[f"units/layer_{i}"].value for i in range(3)] == [12, 5, 3]
    assert {m.step for m in metrics.values()} == {7}
    assert {m.timestamp for m in metrics.values()} == {1_001_500}


def test_best_metrics_put_the_trace_at_whole_seconds() -> None:
    best = BestRecord("accuracy", 0.9, True, "t0", "i3", 4, 12.7, {}, [8, 4], 99, "m.zip")
    metrics = {m.key: m for m in best_metrics(best, start_ms=0)}
    assert metrics["best_accuracy"].value == 0.9 and metrics["best_accuracy"].step == 12
    assert metrics["best_accuracy"].timestamp == 12_700
    assert metrics["best/units/layer_1"].value == 4


def test_outbox_drops_the_oldest_beyond_capacity() -> None:
    box: Outbox[int] = Outbox(3)
    for i in range(5):
        box.put(i)
    assert box.dropped == 2 and box.depth == 3
    assert box.take(10, timeout=0) == [2, 3, 4]
    assert box.take(10, timeout=0) == []
    with pytest.raises(ValueError, match="capacity"):
        Outbox(0)


def test_outbox_wakes_a_waiting_consumer() -> None:
    box: Outbox[str] = Outbox(10)
    got: list[list[str]] = []
    consumer = threading.Thread(target=lambda: got.append(box.take(5, timeout=30)))
    consumer.start()
    box.put("x")
    consumer.join(timeout=30)
    assert got == [["x"]]


def test_default_artifact_location_sits_next_to_the_sqlite_file(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert default_artifact_location(uri, "my exp") == (tmp_path / "mlartifacts/my_exp").as_uri()
    assert default_artifact_location("http://mlflow:5000", "dynas") is None


def test_registered_model_name_is_sanitized() -> None:
    assert registered_model_name("digits run #1") == "dynas-digits_run__1"


def test_prediction_frame_has_labels_and_probabilities() -> None:
    frame = prediction_frame(np.array([1, 0]), np.array([[0.2, 0.8], [0.7, 0.3]]))
    assert list(frame.columns) == ["prediction", "probability_0", "probability_1"]
    assert frame["prediction"].tolist() == [1, 0]
    assert list(prediction_frame(np.array([0.5]), None).columns) == ["prediction"]


def test_mlflow_ui_command_serves_the_embedded_store(tmp_path: Path) -> None:
    cmd = mlflow_ui_command(tmp_path, port=5123)
    argv = cmd.argv
    assert "ui" in argv
    assert argv[argv.index("--backend-store-uri") + 1] == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert argv[argv.index("--default-artifact-root") + 1] == str(tmp_path / "mlartifacts")
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "5123"
    assert argv[argv.index("--workers") + 1] == "1"
    assert cmd.env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert cmd.url == "http://127.0.0.1:5123"
    assert (tmp_path / "mlartifacts").is_dir()
    with pytest.raises(ValueError, match="port"):
        mlflow_ui_command(tmp_path, port=0)
