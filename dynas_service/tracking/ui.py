"""The command line that serves the MLflow UI on the embedded store (no MLflow import here,
so the CLI can build it cheaply)."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class UiCommand:
    """``argv`` to run (e.g. with ``subprocess.Popen(cmd.argv, env=cmd.env)``) and the full
    environment it needs; ``url`` is where the UI answers once started (~5 s)."""

    argv: list[str]
    env: dict[str, str]
    url: str


def mlflow_ui_command(
    data_dir: Path, *, host: str = "127.0.0.1", port: int = 5000, tracking_uri: str | None = None
) -> UiCommand:
    """``mlflow ui`` on ``sqlite:///<data_dir>/mlflow.db`` (or ``tracking_uri``) with artifacts
    in ``<data_dir>/mlartifacts``, one worker and MLflow's job runner off (~0.5 GB RSS
    instead of ~2.4 GB). Creates the artifact folder. Raises ``ValueError`` on a bad port.
    """
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be in 1..65535, got {port=}")
    data_dir = Path(data_dir).expanduser().resolve()
    artifacts = data_dir / "mlartifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    store = tracking_uri or f"sqlite:///{data_dir / 'mlflow.db'}"
    exe = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    launcher = [exe] if exe else [sys.executable, "-m", "mlflow"]
    argv = [
        *launcher,
        "ui",
        "--backend-store-uri",
        store,
        "--default-artifact-root",
        str(artifacts),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
    }
    return UiCommand(argv=argv, env=env, url=f"http://{host}:{port}")
