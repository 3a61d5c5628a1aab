"""Fixtures of the API/jobs tests: settings in tmp, an in-process app, a stored best model,
and (marker ``server``) a real uvicorn server process joined to the session's local Ray."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dynas_service.settings import Settings

UNREACHABLE_RAY = "127.0.0.1:9"
"""A Ray address nobody answers: in-process tests never start or join a cluster."""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a fresh data directory, MLflow off, fast reconciling."""
    return Settings(
        data_dir=tmp_path / "data",
        mlflow_tracking_uri="",
        reconcile_interval_s=0.2,
        standby_runner=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    """A TestClient over ``create_app(settings)`` (no Ray, no runner needed)."""
    from fastapi.testclient import TestClient

    from dynas_service.api import create_app

    with TestClient(create_app(settings, ray_address=UNREACHABLE_RAY)) as test_client:
        yield test_client


def store_digits_best(settings: Settings, *, version: int = 1, seed: int = 0) -> str:
    """Insert a finished digits job whose best is a real (untrained) cnn; returns its id."""
    import torch

    from dynas_service.events import BestRecord
    from dynas_service.jobs import JobStore
    from dynas_service.jobs.tables import JobRow
    from dynas_service.nn import build_model, default_spec, save_model_zip

    store = JobStore(settings.resolved_database_url())
    job_id = f"{seed:032x}"
    spec = default_spec("cnn", (1, 8, 8), 10, "classification", hidden_layers=2, initial_units=4)
    model = build_model(
        spec,
        input_mean=torch.full((1, 8, 8), 4.0),
        input_std=torch.full((1, 8, 8), 6.0),
        generator=torch.Generator().manual_seed(seed),
    )
    folder = settings.jobs_dir() / job_id / "best" / f"v{version}"
    folder.mkdir(parents=True)
    save_model_zip(model, folder / "model.safetensors.zip")
    info = {
        "id": "digits",
        "name": "digits",
        "task": "classification",
        "n_samples": 1797,
        "n_features": 64,
        "input_shape": [1, 8, 8],
        "n_classes": 10,
        "class_names": [str(i) for i in range(10)],
        "builtin": True,
    }
    spec_json = {"dataset": "digits", "model": {"family": "cnn"}}
    store.add_job(
        JobRow(
            id=job_id,
            name="stored",
            dataset="digits",
            spec=spec_json,
            dataset_info=info,
            status="finished",
            created_at=time.time(),
            queued_at=time.time(),
            elapsed_s=3.0,
            trials_running=0,
            trials_finished=1,
            trials_total=1,
            epochs_trained=1,
            best_version=-1,
            resume_count=0,
        )
    )
    best = BestRecord(
        "accuracy",
        0.5,
        True,
        "t1",
        "i1",
        1,
        2.0,
        {"learning_rate": 1e-3},
        model.layer_sizes(),
        model.n_parameters(),
        str(folder / "model.safetensors.zip"),
        version,
    )
    store.record_best(job_id, best.to_dict())
    store.close()
    return job_id


def kill_ray_head(port: int) -> None:
    """SIGKILL the processes of an embedded head this test session started (by GCS port)."""
    marks = (f"127.0.0.1:{port}".encode(), f"--gcs_server_port={port}".encode())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if any(mark in cmdline for mark in marks):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A uvicorn process serving ``create_app(Settings())`` from ``DYNAS_*`` variables."""

    env: dict[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "dynas_service.api.app:app_from_environment",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not start; log:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the server (runners, in their own sessions, live on)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def live_server_factory(tmp_path: Path, ray_local: str) -> Iterator[Callable[..., LiveServer]]:
    """Build (not start) servers sharing one data dir, local Ray and MLflow sqlite store."""
    servers: list[LiveServer] = []
    data_dir = tmp_path / "data"

    def make(token: str | None = None, *, mlflow: bool = True) -> LiveServer:
        env = {
            **os.environ,
            "DYNAS_DATA_DIR": str(data_dir),
            "DYNAS_RAY_ADDRESS": ray_local,
            "RAY_ADDRESS": ray_local,
            "DYNAS_RECONCILE_INTERVAL_S": "0.5",
            "DYNAS_MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
        env.pop("DYNAS_API_TOKEN", None)
        if not mlflow:
            env["DYNAS_MLFLOW_TRACKING_URI"] = ""
        if token:
            env["DYNAS_API_TOKEN"] = token
        server = LiveServer(env=env, log=tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
    stop_runners(Settings(data_dir=data_dir))


def stop_runners(settings: Settings, timeout: float = 30) -> None:
    """Stop the runners this test started: STOP files first, SIGKILL by pid after."""
    from dynas_service.jobs import ACTIVE_STATUSES, JobStore
    from dynas_service.jobs.processes import runner_alive

    if not settings.jobs_dir().exists():
        return
    store = JobStore(settings.resolved_database_url())
    active = [j for j in store.jobs_with_status(ACTIVE_STATUSES) if j.runner_pid]
    for job in active:
        (settings.jobs_dir() / job.id / "STOP").write_text("test teardown")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(runner_alive(j.runner_pid, j.id) for j in active):
        time.sleep(0.5)
    for job in active:
        if job.runner_pid and runner_alive(job.runner_pid, job.id):
            os.kill(job.runner_pid, signal.SIGKILL)
    store.close()
