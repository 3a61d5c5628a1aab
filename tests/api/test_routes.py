"""The REST contract in-process (TestClient): errors, auth, uploads, stored best models."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from dynas_service.api import create_app
from dynas_service.settings import Settings
from tests.api.conftest import UNREACHABLE_RAY, store_digits_best

DIGIT = np.arange(64, dtype=np.float32).reshape(1, 8, 8) % 17


def npz(X: np.ndarray, y: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, X=X, y=y)
    return buffer.getvalue()


def test_unknown_ids_are_404_with_a_message(client: TestClient) -> None:
    for method, path in [
        ("get", "/jobs/nope"),
        ("get", "/jobs/nope/best"),
        ("get", "/jobs/nope/trace"),
        ("get", "/jobs/nope/trials"),
        ("post", "/jobs/nope/stop"),
        ("post", "/jobs/nope/resume"),
        ("delete", "/jobs/nope"),
        ("get", "/datasets/0123456789ab"),
        ("get", "/jobs/nope/best/model"),
        ("get", "/jobs/nope/trace.png"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 404, (method, path, response.text)
        assert "nope" in response.json()["detail"] or "0123456789ab" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "no-such-set"}, ["body", "dataset"]),
        ({"dataset": "../../etc/passwd"}, ["body", "dataset"]),
        ({"dataset": "puzzle8", "model": {"family": "cnn"}}, ["body", "model", "family"]),
        (
            {"dataset": "digits", "search_space": {"batch_size": {"low": 64, "high": 16}}},
            ["body", "search_space", "batch_size"],
        ),
        ({"dataset": "digits", "budget": {"seconds": -1}}, ["body", "budget", "seconds"]),
        ({"dataset": "digits", "algorithm": "bayes"}, ["body", "algorithm"]),
        ({"dataset": "digits", "algorithm_options": {"nope": 1}}, ["body", "algorithm_options"]),
    ],
)
def test_invalid_specs_get_422_naming_the_field_and_store_nothing(
    client: TestClient, body: dict, field: list
) -> None:
    response = client.post("/jobs", json=body)
    assert response.status_code == 422, response.text
    assert field in [error["loc"] for error in response.json()["detail"]]
    assert client.get("/jobs").json() == []


@pytest.mark.ray
def test_more_gpus_than_the_cluster_has_is_422(settings: Settings, ray_local: str) -> None:
    with TestClient(create_app(settings, ray_address=ray_local)) as client:
        body = {"dataset": "digits", "resources": {"gpus_per_trial": 64}}
        response = client.post("/jobs", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "resources", "gpus_per_trial"]
        assert client.get("/jobs").json() == []


def test_uploads_are_validated_listed_and_deleted(client: TestClient) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    created = client.post("/datasets", files={"file": ("t.npz", npz(X, y))})
    assert created.status_code == 201, created.text
    info = created.json()
    assert (info["n_samples"], info["input_shape"], info["task"]) == (40, [3], "classification")
    assert info["id"] in [d["id"] for d in client.get("/datasets").json()]
    assert client.get(f"/datasets/{info['id']}").json()["name"] == "t"
    cnn = client.post("/jobs", json={"dataset": info["id"], "model": {"family": "cnn"}})
    assert cnn.status_code == 422
    assert client.delete(f"/datasets/{info['id']}").status_code == 204
    assert client.get(f"/datasets/{info['id']}").status_code == 404
    assert client.delete("/datasets/digits").status_code == 409


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.npz", b"not a zip"),
        ("nan.npz", npz(np.full((20, 2), np.nan), np.arange(20) % 2)),
        ("short.npz", npz(np.zeros((20, 2)), np.zeros(7))),
        ("one-class.npz", npz(np.random.default_rng(1).normal(size=(20, 2)), np.zeros(20, int))),
        ("empty.csv", b""),
        ("data.exe", b"MZ..."),
    ],
)
def test_malformed_uploads_are_422(client: TestClient, name: str, content: bytes) -> None:
    response = client.post("/datasets", files={"file": (name, content)})
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str | list)
    assert [d for d in client.get("/datasets").json() if not d["builtin"]] == []


def test_uploads_over_the_limit_are_413(tmp_path: Any) -> None:
    settings = Settings(
        data_dir=tmp_path, mlflow_tracking_uri="", standby_runner=False, max_upload_mb=0.05
    )
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as small:
        big = b"x" * 200_000
        response = small.post("/datasets", files={"file": ("big.csv", big)})
        assert response.status_code == 413
        assert "0.05 MB" in response.json()["detail"]
        assert [d for d in small.get("/datasets").json() if not d["builtin"]] == []


def test_auth_when_a_token_is_set(tmp_path: Any) -> None:
    settings = Settings(
        data_dir=tmp_path, mlflow_tracking_uri="", standby_runner=False, api_token="s3cret"
    )
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as secured:
        assert secured.get("/healthz").status_code == 200
        for path in ("/jobs", "/datasets", "/metrics", "/openapi.json"):
            assert secured.get(path).status_code == 401
            assert secured.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            ok = secured.get(path, headers={"Authorization": "Bearer s3cret"})
            assert ok.status_code == 200, path
        assert "DYNAS_API_TOKEN" in secured.get("/jobs").json()["detail"]


def test_no_token_means_open(client: TestClient) -> None:
    assert client.get("/jobs").status_code == 200


def test_stored_best_is_served_in_every_format_byte_identically(settings: Settings) -> None:
    job_id = store_digits_best(settings)
    downloads: dict[str, bytes] = {}
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as first:
        assert first.get(f"/jobs/{job_id}/best").json()["version"] == 1
        assert "model_path" not in first.get(f"/jobs/{job_id}/best").json()
        for fmt in ("torchscript", "safetensors", "onnx"):
            response = first.get(f"/jobs/{job_id}/best/model", params={"format": fmt})
            assert response.status_code == 200, response.text
            downloads[fmt] = response.content
        assert first.get(f"/jobs/{job_id}/best/model", params={"format": "pkl"}).status_code == 422
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as second:
        for fmt, content in downloads.items():
            again = second.get(f"/jobs/{job_id}/best/model", params={"format": fmt}).content
            assert again == content, fmt
    assert zipfile.is_zipfile(io.BytesIO(downloads["safetensors"]))


def test_predict_matches_the_downloaded_torchscript(settings: Settings, tmp_path: Any) -> None:
    job_id = store_digits_best(settings, seed=3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 17, size=(5, 1, 8, 8)).astype(np.float32)
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as client:
        answer = client.post(f"/jobs/{job_id}/predict", json={"inputs": images.tolist()})
        assert answer.status_code == 200, answer.text
        flat = client.post(
            f"/jobs/{job_id}/predict", json={"inputs": images.reshape(5, 64).tolist()}
        ).json()
        script = tmp_path / "m.pt"
        script.write_bytes(client.get(f"/jobs/{job_id}/best/model").content)
    body = answer.json()
    model = torch.jit.load(str(script))
    with torch.no_grad():
        logits = model(torch.from_numpy(images))
    assert body["predictions"] == logits.argmax(1).tolist() == flat["predictions"]
    np.testing.assert_allclose(body["probabilities"], torch.softmax(logits, 1).numpy(), atol=1e-5)
    assert body["labels"] == [str(p) for p in body["predictions"]]


@pytest.mark.parametrize(
    "inputs",
    [[[1.0, 2.0]], [[1, 2], [3]], [["a"] * 64], [[None] * 64], [[1e39] * 64]],
)
def test_predict_rejects_inputs_that_do_not_fit(settings: Settings, inputs: list) -> None:
    job_id = store_digits_best(settings)
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as client:
        response = client.post(f"/jobs/{job_id}/predict", json={"inputs": inputs})
    assert response.status_code == 422, response.text


def test_predict_batch_is_bounded(tmp_path: Any) -> None:
    settings = Settings(
        data_dir=tmp_path, mlflow_tracking_uri="", standby_runner=False, max_predict_rows=3
    )
    job_id = store_digits_best(settings)
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as client:
        response = client.post(f"/jobs/{job_id}/predict", json={"inputs": [DIGIT.tolist()] * 4})
        assert response.status_code == 422 and "at most 3" in response.json()["detail"]
        ok = client.post(f"/jobs/{job_id}/predict", json={"inputs": [DIGIT.tolist()] * 3})
        assert ok.status_code == 200


def test_trace_metrics_and_health(settings: Settings) -> None:
    job_id = store_digits_best(settings)
    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as client:
        trace = client.get(f"/jobs/{job_id}/trace").json()
        assert trace["metric"] == "accuracy" and trace["points"][0]["value"] == 0.5
        png = client.get(f"/jobs/{job_id}/trace.png")
        assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
        text = client.get("/metrics").text
        assert 'dynas_jobs{status="finished"} 1.0' in text
        assert f'dynas_best_metric{{job_id="{job_id}",metric="accuracy"}} 0.5' in text
        assert (
            'dynas_request_latency_seconds_count{method="GET",route="/jobs/{job_id}/trace"' in text
        )
        health = client.get("/healthz").json()
        assert health["ray"]["status"] == "unreachable" and health["status"] == "degraded"
        assert health["mlflow"]["status"] == "disabled"
        stop = client.post(f"/jobs/{job_id}/stop")
        assert stop.status_code == 200 and stop.json()["status"] == "finished"
        assert client.delete(f"/jobs/{job_id}").status_code == 204
        assert not (settings.jobs_dir() / job_id).exists()
