"""docker-compose.yml: validated by the real Compose CLI when present, structurally always."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy._util import COMPOSE_FILE, ENV_EXAMPLE, REPO, compose_command

RAY_NODES = ("ray-head", "ray-worker", "ray-gpu-worker")
SECRETS = ("POSTGRES_PASSWORD", "DYNAS_API_TOKEN", "RAY_AUTH_TOKEN")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    # PyYAML resolves the anchors and `<<` merge keys the way Compose does.
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment is written as a mapping"
    return {key: "" if value is None else str(value) for key, value in env.items()}


def test_the_five_services_and_the_gpu_profile(services: dict[str, Any]) -> None:
    assert {"api", "ray-head", "ray-worker", "mlflow", "postgres"} <= set(services)
    assert services["ray-gpu-worker"]["profiles"] == ["gpu"]
    for name in ("api", "ray-head", "ray-worker", "mlflow", "postgres"):
        assert "profiles" not in services[name], name


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert rule["condition"] == "service_healthy", (name, dependency)
    assert set(services["api"]["depends_on"]) == {"postgres", "mlflow", "ray-head"}
    assert set(services["mlflow"]["depends_on"]) == {"postgres"}
    assert set(services["ray-worker"]["depends_on"]) == {"ray-head"}


def test_api_is_wired_to_ray_postgres_and_mlflow(services: dict[str, Any]) -> None:
    env = env_of(services["api"])
    head_port = env_of(services["ray-head"]).get("RAY_PORT", "6379")
    assert env["DYNAS_RAY_ADDRESS"] == f"ray-head:{head_port}"
    assert env["RAY_ADDRESS"] == env["DYNAS_RAY_ADDRESS"]
    assert re.fullmatch(r"postgresql\+psycopg://dynas:\$\{POSTGRES_PASSWORD:\?[^}]*\}"
                        r"@postgres:5432/dynas", env["DYNAS_DATABASE_URL"])
    assert env["DYNAS_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert services["api"]["command"] == ["api"]


def test_mlflow_proxies_artifacts_and_uses_postgres(services: dict[str, Any]) -> None:
    env = env_of(services["mlflow"])
    assert services["mlflow"]["command"] == ["mlflow"]
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql+psycopg://")
    assert env["MLFLOW_BACKEND_STORE_URI"].endswith("@postgres:5432/mlflow")
    mounts = [volume.split(":") for volume in services["mlflow"]["volumes"]]
    assert [name for name, target in mounts if target == env["MLFLOW_ARTIFACTS_DESTINATION"]]
    init = REPO / "deploy" / "compose" / "postgres-init" / "01-databases.sql"
    assert "CREATE DATABASE mlflow" in init.read_text()


def test_all_ray_nodes_and_the_api_share_the_data_volume(
    compose: dict[str, Any], services: dict[str, Any],
) -> None:
    for name in ("api", *RAY_NODES):
        assert "dynas-data:/data" in services[name]["volumes"], name
        env = env_of(services[name])
        assert env["DYNAS_DATA_DIR"] == "/data"
        assert env["DYNAS_STORAGE_URI"].startswith("/data/")
        assert env["RAY_AUTH_MODE"] == "token"
        assert env["RAY_AUTH_TOKEN"].startswith("${RAY_AUTH_TOKEN:?")
    assert "dynas-data" in compose["volumes"]


def test_workers_can_be_scaled(services: dict[str, Any]) -> None:
    for name in ("ray-worker", "ray-gpu-worker"):
        worker = services[name]
        assert "container_name" not in worker and "ports" not in worker, name
        assert "hostname" not in worker, name
        assert env_of(worker)["RAY_HEAD_ADDRESS"] == "ray-head:6379"
        assert worker["command"] == ["ray-worker"]


def test_gpu_workers_reserve_nvidia_devices_and_use_the_cuda_build(
    services: dict[str, Any],
) -> None:
    gpu = services["ray-gpu-worker"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]
    assert gpu["build"]["args"]["TORCH_INDEX"].startswith("${DYNAS_TORCH_CUDA_INDEX:-cu")
    assert services["ray-worker"]["build"]["args"]["TORCH_INDEX"] == "cpu"


def test_required_secrets_use_the_error_form_and_are_listed_in_env_example() -> None:
    text = COMPOSE_FILE.read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == set(SECRETS)
    example = ENV_EXAMPLE.read_text()
    for name in required:
        assert re.search(rf"^{name}=$", example, re.MULTILINE), f"{name} missing or prefilled"
    for name in re.findall(r"\$\{(\w+):-", text):
        assert name in example, f"optional {name} is not documented in .env.example"


def test_published_ports_listen_on_localhost_by_default(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            assert "127.0.0.1:" in port, f"{name} publishes {port} beyond this host"


# --- the real Compose CLI -------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_cli() -> list[str]:
    command = compose_command()
    if command is None:
        pytest.skip("neither the `docker compose` plugin nor a docker-compose v2 is installed")
    return command


def run_compose(cli: list[str], env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli, "--project-directory", str(REPO), "-f", str(COMPOSE_FILE),
         "--env-file", str(env_file), *args],
        capture_output=True, text=True, timeout=60,
        # Variables in the environment win over the env file: keep the secrets out.
        env={key: value for key, value in os.environ.items() if key not in SECRETS},
    )


def filled_env(tmp_path: Path) -> Path:
    path = tmp_path / "filled.env"
    text = ENV_EXAMPLE.read_text()
    for name in SECRETS:
        text = re.sub(rf"^{name}=$", f"{name}=secret-{name.lower()}", text, flags=re.MULTILINE)
    path.write_text(text)
    return path


def test_compose_config_validates(compose_cli: list[str], tmp_path: Path) -> None:
    done = run_compose(compose_cli, filled_env(tmp_path), "--profile", "gpu", "config",
                       "--format", "json")
    assert done.returncode == 0, done.stderr
    resolved = json.loads(done.stdout)
    api_env = resolved["services"]["api"]["environment"]
    assert api_env["DYNAS_API_TOKEN"] == "secret-dynas_api_token"
    assert api_env["DYNAS_DATABASE_URL"] == (
        "postgresql+psycopg://dynas:secret-postgres_password@postgres:5432/dynas")
    gpu = resolved["services"]["ray-gpu-worker"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["count"] == 1


def test_compose_refuses_to_start_without_the_secrets(
    compose_cli: list[str], tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text(ENV_EXAMPLE.read_text())
    done = run_compose(compose_cli, empty, "config", "-q")
    assert done.returncode != 0
    for name in SECRETS:
        assert name in done.stderr
