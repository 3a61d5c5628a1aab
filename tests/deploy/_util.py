"""Shared helpers of the deployment tests: repository paths, tools, YAML loading."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "deploy" / "docker" / "entrypoint.sh"
KUBERAY = REPO / "deploy" / "kuberay"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"


def tool(name: str) -> str | None:
    """A command-line tool from this Python's bin folder or PATH, or None."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def compose_command() -> list[str] | None:
    """`docker compose` if the plugin works, else a standalone `docker-compose` v2, or None."""
    docker = shutil.which("docker")
    if docker:
        done = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if done.returncode == 0:
            return [docker, "compose"]
    standalone = tool("docker-compose")
    if standalone:
        done = subprocess.run([standalone, "version"], capture_output=True, text=True, timeout=30)
        if done.returncode == 0 and "v1." not in done.stdout:
            return [standalone]
    return None


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a file."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def run_entrypoint(*args: str, env: dict[str, str] | None = None,
                   dry_run: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the image's entrypoint script as a local process (a dry run by default)."""
    full_env = {key: value for key, value in os.environ.items()
                if not key.startswith(("RAY_", "DYNAS_", "MLFLOW_"))}
    full_env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    if dry_run:
        full_env["DYNAS_ENTRYPOINT_DRY_RUN"] = "1"
    full_env.update(env or {})
    return subprocess.run(["bash", str(ENTRYPOINT), *args], env=full_env, capture_output=True,
                          text=True, timeout=120)


def printed_commands(stdout: str) -> list[list[str]]:
    """The commands a dry run printed (arguments one per line, each command ended by --)."""
    commands: list[list[str]] = []
    current: list[str] = []
    for line in stdout.splitlines():
        if line == "--":
            commands.append(current)
            current = []
        else:
            current.append(line)
    return commands
