"""The image's entrypoint, run as a local process: exact commands (dry run), real flags, health.

The real start of each mode (`ray-head`, `ray-worker`, `api`) is exercised by
`test_multinode.py`, which runs scripts/multinode_check.py.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy._util import (
    COMPOSE_FILE,
    ENTRYPOINT,
    KUBERAY,
    load_documents,
    printed_commands,
    run_entrypoint,
    tool,
)

MODES = {"api", "ray-head", "ray-worker", "mlflow", "healthcheck"}


def commands_of(*args: str, **env: str) -> list[list[str]]:
    done = run_entrypoint(*args, env=env)
    assert done.returncode == 0, done.stderr
    return printed_commands(done.stdout)


def test_script_is_valid_bash_and_executable() -> None:
    done = subprocess.run(["bash", "-n", str(ENTRYPOINT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert ENTRYPOINT.stat().st_mode & 0o111, "the entrypoint must be executable"
    shellcheck = tool("shellcheck")
    if shellcheck:
        lint = subprocess.run([shellcheck, str(ENTRYPOINT)], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout


def test_ray_head_blocks_on_its_own_ports() -> None:
    [command] = commands_of("ray-head", RAY_PORT="7000", RAY_NUM_CPUS="0",
                            RAY_DASHBOARD_PORT="7001")
    assert command[:4] == ["ray", "start", "--head", "--block"]
    assert {"--port=7000", "--num-cpus=0", "--dashboard-port=7001",
            "--dashboard-host=0.0.0.0", "--include-dashboard=true"} <= set(command)
    assert not any(arg.startswith("--ray-client-server-port") for arg in command)
    [with_client] = commands_of("ray-head", RAY_CLIENT_SERVER_PORT="10001")
    assert "--ray-client-server-port=10001" in with_client


def test_empty_resource_variables_mean_autodetect() -> None:
    [command] = commands_of("ray-worker", RAY_HEAD_ADDRESS="ray-head:6379", RAY_NUM_CPUS="",
                            RAY_NUM_GPUS="")
    assert command == ["ray", "start", "--block", "--address=ray-head:6379",
                       "--disable-usage-stats"]


def test_ray_worker_needs_the_head_address() -> None:
    done = run_entrypoint("ray-worker")
    assert done.returncode != 0
    assert "RAY_HEAD_ADDRESS" in done.stderr


def test_extra_ray_flags_are_passed_through() -> None:
    [command] = commands_of("ray-worker", RAY_HEAD_ADDRESS="h:1", RAY_NUM_GPUS="2",
                            RAY_START_ARGS="--labels=pool=gpu --object-store-memory=1000000000")
    assert command[-3:] == ["--num-gpus=2", "--labels=pool=gpu",
                            "--object-store-memory=1000000000"]


def test_api_joins_the_cluster_as_a_resourceless_node_then_serves() -> None:
    join, serve = commands_of("api", DYNAS_RAY_ADDRESS="ray-head:6379", RAY_NUM_CPUS="8")
    assert join[:3] == ["ray", "start", "--address=ray-head:6379"]
    assert "--num-cpus=0" in join and "--num-gpus=0" in join and "--num-cpus=8" not in join
    assert "--block" not in join
    assert serve == ["dynas", "serve"]


def test_api_alone_runs_the_embedded_service() -> None:
    assert commands_of("api") == [["dynas", "serve"]]
    assert commands_of("api", DYNAS_RAY_ADDRESS="h:1", DYNAS_API_JOIN_RAY="0") == [
        ["dynas", "serve"]]


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_mlflow_serves_proxied_artifacts_from_its_backend() -> None:
    [command] = commands_of("mlflow", MLFLOW_BACKEND_STORE_URI="postgresql+psycopg://u:p@db/m")
    assert command[:2] == ["mlflow", "server"]
    assert option(command, "--backend-store-uri") == "postgresql+psycopg://u:p@db/m"
    assert "--serve-artifacts" in command
    assert option(command, "--artifacts-destination") == "/mlartifacts"
    assert "mlflow:*" in option(command, "--allowed-hosts")
    missing = run_entrypoint("mlflow")
    assert missing.returncode != 0 and "MLFLOW_BACKEND_STORE_URI" in missing.stderr


def test_other_commands_run_as_given() -> None:
    assert commands_of("dynas", "submit", "spec.json") == [["dynas", "submit", "spec.json"]]
    done = run_entrypoint("echo", "hello", dry_run=False)
    assert done.returncode == 0 and done.stdout == "hello\n"


def flags(command: list[str]) -> set[str]:
    return {arg.split("=")[0] for arg in command if arg.startswith("--")}


@pytest.fixture(scope="module")
def ray_start_options() -> set[str]:
    from ray.scripts.scripts import start

    return {opt for param in start.params for opt in param.opts}


@pytest.mark.parametrize("mode", ["ray-head", "ray-worker", "api"])
def test_emitted_ray_flags_exist_in_the_installed_ray(
    mode: str, ray_start_options: set[str],
) -> None:
    env = {"RAY_HEAD_ADDRESS": "h:1", "DYNAS_RAY_ADDRESS": "h:1", "RAY_NUM_CPUS": "1",
           "RAY_NUM_GPUS": "0", "RAY_TEMP_DIR": "/tmp/x", "RAY_NODE_IP_ADDRESS": "127.0.0.1",
           "RAY_OBJECT_STORE_MEMORY": "100000000", "RAY_CLIENT_SERVER_PORT": "10001"}
    ray_command = commands_of(mode, **env)[0]
    assert flags(ray_command) <= ray_start_options


def test_emitted_mlflow_flags_exist_in_the_installed_mlflow() -> None:
    from mlflow.cli import server

    [command] = commands_of("mlflow", MLFLOW_BACKEND_STORE_URI="sqlite:///x.db")
    assert flags(command) <= {opt for param in server.params for opt in param.opts}


def test_compose_and_kubernetes_only_use_existing_modes() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    for name, service in services.items():
        if "command" in service and "image" in service and "dynas" in service["image"]:
            assert service["command"][0] in MODES, name
        test = service["healthcheck"]["test"]
        if test[1] == "dynas-entrypoint":
            assert test[2] == "healthcheck", name
    for path in KUBERAY.glob("*.yaml"):
        for doc in load_documents(path):
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []):
                if container["image"].startswith("dynas-service"):
                    assert container["args"][0] in MODES, (path.name, container["name"])


# --- healthcheck: real processes ---------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def fake_api() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    _Handler.status = 200


def health(run_dir: Path, role: str | None, port: int) -> int:
    if role is not None:
        (run_dir / "dynas-role").write_text(role + "\n")
    done = run_entrypoint("healthcheck", env={"DYNAS_RUN_DIR": str(run_dir),
                                              "DYNAS_PORT": str(port)}, dry_run=False)
    return done.returncode


def test_healthcheck_follows_the_role_this_container_started(
    tmp_path: Path, fake_api: http.server.HTTPServer,
) -> None:
    port = fake_api.server_address[1]
    assert health(tmp_path, None, port) != 0, "no role started: unhealthy"
    assert health(tmp_path, "api", port) == 0
    _Handler.status = 503
    assert health(tmp_path, "api", port) != 0
    fake_api.shutdown()
    assert health(tmp_path, "api", port) != 0


def test_a_started_mode_records_its_role(tmp_path: Path) -> None:
    done = run_entrypoint("mlflow", env={"DYNAS_RUN_DIR": str(tmp_path),
                                         "MLFLOW_BACKEND_STORE_URI": "sqlite:///x.db",
                                         "PATH": str(tmp_path) + ":/usr/bin:/bin"},
                          dry_run=False)
    # `mlflow` is not on this PATH, so exec fails, but only after the role was written.
    assert done.returncode != 0
    assert (tmp_path / "dynas-role").read_text() == "mlflow\n"
