"""End to end through a real uvicorn server, a real local Ray and a real MLflow store:
submit on digits, poll the best while it trains, compare the TorchScript download with
/predict, stop, resume, kill -9 the server and find everything again."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import torch

from tests.api.conftest import LiveServer

pytestmark = [pytest.mark.server, pytest.mark.ray, pytest.mark.mlflow, pytest.mark.timeout(300)]

SMALL_JOB: dict[str, Any] = {
    "dataset": "digits",
    "sample": 0.5,
    "algorithm": "evolution",
    "algorithm_options": {"population": 4, "n_fresh": 1},
    "model": {"hidden_layers": 2, "initial_units": 8},
    "resources": {"cpus_per_trial": 1},
}


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.3) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {value!r}")


def job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    return client.get(f"/jobs/{job_id}").raise_for_status().json()


def best_or_none(client: httpx.Client, job_id: str) -> dict[str, Any] | None:
    response = client.get(f"/jobs/{job_id}/best")
    if response.status_code == 404:
        return None
    return response.raise_for_status().json()


def digits_images(n: int = 16) -> np.ndarray:
    from sklearn.datasets import load_digits

    return np.asarray(load_digits().images[:n], dtype=np.float32)[:, None]


def test_job_lifecycle(live_server_factory: Callable[..., LiveServer], tmp_path: Path) -> None:
    server = live_server_factory()
    server.start()
    client = httpx.Client(base_url=server.url, timeout=30)
    created = client.post("/jobs", json={**SMALL_JOB, "budget": {"seconds": 60}})
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    assert created.json()["spec"]["model"]["family"] == "cnn"

    first = wait_for(lambda: best_or_none(client, job_id), 120, "a first best")
    values = [first["value"]]
    while job(client, job_id)["status"] == "running" and len(values) < 5:
        values.append(client.get(f"/jobs/{job_id}/best").json()["value"])
        time.sleep(0.5)
    assert values == sorted(values), "the best got worse"

    stop = client.post(f"/jobs/{job_id}/stop")
    assert stop.status_code in (200, 202)
    wait_for(lambda: job(client, job_id)["status"] in ("stopped", "finished"), 90, "a stop")
    before = client.get(f"/jobs/{job_id}/best").json()
    images = digits_images()
    answer = client.post(f"/jobs/{job_id}/predict", json={"inputs": images.tolist()})
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_version"] == before["version"]
    script = tmp_path / "best.pt"
    script.write_bytes(client.get(f"/jobs/{job_id}/best/model").content)
    with torch.no_grad():
        logits = torch.jit.load(str(script))(torch.from_numpy(images))
    assert answer.json()["predictions"] == logits.argmax(1).tolist()

    resumed = client.post(f"/jobs/{job_id}/resume", json={"budget": {"seconds": 5}})
    assert resumed.status_code == 202, resumed.text
    assert client.post(f"/jobs/{job_id}/resume").status_code == 409
    assert client.delete(f"/jobs/{job_id}").status_code == 409
    final = wait_for(lambda: ended(client, job_id), 120, "the resumed job to end")
    assert final["status"] in ("finished", "stopped"), final["error"]
    assert final["best"]["value"] >= before["value"]
    assert final["mlflow_run_id"]
    trace = client.get(f"/jobs/{job_id}/trace").json()["points"]
    assert [p["value"] for p in trace] == sorted(p["value"] for p in trace)
    trials = client.get(f"/jobs/{job_id}/trials").json()
    assert trials and all(t["epochs"] >= 1 for t in trials)
    known = {t["id"] for t in trials}
    assert all(t["parent_trial_id"] in known for t in trials if t["parent_trial_id"])
    metrics = client.get("/metrics").text
    assert f'dynas_epochs_trained_total{{job_id="{job_id}"}}' in metrics
    health = client.get("/healthz").json()
    assert health["ray"]["status"] == "ok" and health["mlflow"]["status"] == "ok"
    assert client.delete(f"/jobs/{job_id}").status_code == 204
    assert client.get(f"/jobs/{job_id}").status_code == 404


def ended(client: httpx.Client, job_id: str) -> dict[str, Any] | None:
    current = job(client, job_id)
    return current if current["status"] in ("finished", "stopped", "failed") else None


def test_restart_safety(live_server_factory: Callable[..., LiveServer]) -> None:
    first = live_server_factory(mlflow=False)  # MLflow is covered by test_job_lifecycle
    first.start()
    client = httpx.Client(base_url=first.url, timeout=30)
    until_stopped = {
        "dataset": "digits",
        "sample": 0.5,
        "algorithm": "random",
        "model": {"hidden_layers": 2, "initial_units": 8},
        "budget": {"seconds": None, "trials": None},
    }
    job_id = client.post("/jobs", json=until_stopped).json()["id"]
    wait_for(lambda: best_or_none(client, job_id), 120, "a first best")
    first.kill()

    second = live_server_factory(token="t0ken", mlflow=False)
    second.start()
    anonymous = httpx.Client(base_url=second.url, timeout=30)
    assert anonymous.get(f"/jobs/{job_id}").status_code == 401
    headers = {"Authorization": "Bearer t0ken"}
    client = httpx.Client(base_url=second.url, timeout=30, headers=headers)
    assert [j["id"] for j in client.get("/jobs").json()] == [job_id]
    assert job(client, job_id)["status"] == "running"  # the runner outlived the API

    pid = _runner_pid(second, job_id)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    lost = wait_for(
        lambda: (j := job(client, job_id))["status"] == "interrupted" and j, 30, "interrupted"
    )
    assert client.post(f"/jobs/{job_id}/resume", json={"budget": {"seconds": 5}}).status_code == 202
    final = wait_for(lambda: ended(client, job_id), 120, "the resumed job to end")
    assert final["status"] == "finished", final["error"]
    assert final["best"]["value"] >= lost["best"]["value"]
    models = {
        f: client.get(f"/jobs/{job_id}/best/model", params={"format": f}).content
        for f in ("torchscript", "safetensors")
    }
    second.kill()

    third = live_server_factory(mlflow=False)
    third.start()
    client = httpx.Client(base_url=third.url, timeout=30)
    assert job(client, job_id)["status"] == "finished"
    for fmt, content in models.items():
        again = client.get(f"/jobs/{job_id}/best/model", params={"format": fmt})
        assert again.status_code == 200 and again.content == content, fmt


def _runner_pid(server: LiveServer, job_id: str) -> int | None:
    from dynas_service.jobs import JobStore
    from dynas_service.settings import Settings

    store = JobStore(Settings(data_dir=Path(server.env["DYNAS_DATA_DIR"])).resolved_database_url())
    row = store.get_job(job_id)
    store.close()
    return row.runner_pid if row else None
