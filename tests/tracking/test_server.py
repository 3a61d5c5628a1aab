"""The observer against a real ``mlflow server`` subprocess with proxied artifacts (the
deployment setup: runners upload models through the server, no shared filesystem)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from mlflow import MlflowClient

from dynas_service.events import BestRecord, IndividualInfo
from tests.tracking.conftest import (
    SPEC,
    feed_in_phases,
    free_port,
    fresh_store,
    nn_model_writer,
)
from tests.tracking.synthetic import events, small_evolution

pytestmark = [pytest.mark.mlflow, pytest.mark.server]


@pytest.fixture(scope="module")
def mlflow_server(
    tmp_path_factory: pytest.TempPathFactory, migrated_db: Path
) -> Iterator[tuple[str, Path]]:
    """``mlflow server`` on a free localhost port; yields (url, artifacts destination)."""
    root = tmp_path_factory.mktemp("mlflow-server")
    fresh_store(migrated_db, root)
    port = free_port()
    argv = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination", str(root / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, deadline=time.monotonic() + 180)  # slow when loaded
        yield url, root / "artifacts"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("mlflow server did not become healthy")


def test_job_recorded_through_a_tracking_server(
    mlflow_server: tuple[str, Path], tmp_path: Path
) -> None:
    from dynas_service.tracking import MlflowObserver

    url, artifacts = mlflow_server
    writer = nn_model_writer(tmp_path)
    stream = list(events(small_evolution(), writer))
    observer = MlflowObserver(url, "dynas", "job-s", "served", SPEC, model_interval_s=0)
    assert observer.run_id is not None, "the parent run exists right after construction"
    feed_in_phases(observer, stream, phases=2)
    observer.on_finish("finished", None)
    assert observer.close(timeout=120)
    assert observer.health()["failures"] == 0, observer.health()

    client = MlflowClient(tracking_uri=url, registry_uri=url)
    parent = client.get_run(observer.run_id)
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{observer.run_id}'"
    )
    individuals = {e.individual_id for e in stream if isinstance(e, IndividualInfo)}
    assert {r.data.tags["dynas.individual_id"] for r in children} == individuals
    if writer is None:
        pytest.skip("dynas_service.nn is not importable: no model to check")
    version = client.get_model_version("dynas-served", "1")
    assert version.source.startswith("mlflow-artifacts:"), "artifacts go through the server"
    assert any(artifacts.rglob("MLmodel")), "the server stored the model files"
    _assert_predicts_like_the_service(url, version.source, stream)


def _assert_predicts_like_the_service(url: str, source: str, stream: list[object]) -> None:
    import mlflow.artifacts
    import mlflow.pyfunc

    from dynas_service.nn import load_model, predict

    local = mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=url)
    model = mlflow.pyfunc.load_model(local)
    final = [e for e in stream if isinstance(e, BestRecord)][-1]
    x = np.random.default_rng(2).normal(size=(4, 64)).astype(np.float32)
    want = predict(load_model(final.model_path), x)
    np.testing.assert_array_equal(model.predict(x)["prediction"].to_numpy(), want.predictions)
