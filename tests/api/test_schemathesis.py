"""Fuzz every operation of the OpenAPI schema against a live server: no request may 5xx.

The server's data directory holds one finished job with a real best model, and its id is
the value of every ``job_id`` path parameter, so the job routes (best, model download,
predict, trace) are exercised beyond their 404s. Deletes run in a second, last pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dynas_service.settings import Settings
from tests.api.conftest import UNREACHABLE_RAY, LiveServer, stop_runners, store_digits_best


def schemathesis(url: str, config: Path, *options: str) -> subprocess.CompletedProcess:
    executable = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    command = [
        executable,
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "8",
        "--phases",
        "examples,coverage,fuzzing",
        "-H",
        "Authorization: Bearer tok",
        "--request-timeout",
        "20",
        "--generation-deterministic",
        *options,
    ]
    cwd = config.parent  # schemathesis keeps a cache folder in its working directory
    return subprocess.run(command, capture_output=True, text=True, timeout=200, cwd=cwd)


@pytest.mark.server
@pytest.mark.timeout(300)
def test_no_request_gets_a_server_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    job_id = store_digits_best(Settings(data_dir=data_dir))
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\njob_id = "{job_id}"\n')
    env = {
        **os.environ,
        "DYNAS_DATA_DIR": str(data_dir),
        "DYNAS_API_TOKEN": "tok",
        "DYNAS_RAY_ADDRESS": UNREACHABLE_RAY,
        "DYNAS_MLFLOW_TRACKING_URI": "",
        "DYNAS_STANDBY_RUNNER": "false",
    }
    server = LiveServer(env=env, log=tmp_path / "server.log")
    server.start()
    try:
        runs = [
            schemathesis(server.url, config, "--exclude-method", "DELETE"),
            schemathesis(server.url, config, "--include-method", "DELETE"),
        ]
    finally:
        server.stop()
        stop_runners(Settings(data_dir=data_dir))  # POST .../resume may have started one
    for done in runs:
        output = done.stdout[-6000:] + done.stderr[-2000:]
        assert done.returncode == 0, output
        assert " passed" in output and "failed" not in output.split("Test cases:")[-1], output
