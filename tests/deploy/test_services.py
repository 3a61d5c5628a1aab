"""The compose stack's backing services as local processes: PostgreSQL and the MLflow mode.

A throwaway PostgreSQL cluster (initdb + pg_ctl on a free port, skipped where PostgreSQL is
not installed) gets the databases of `deploy/compose/postgres-init`; the image's `mlflow`
entrypoint mode then serves on it with proxied artifacts, and the job store runs on it
through the same `postgresql+psycopg` URL the deployment uses.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy._util import ENTRYPOINT, REPO, run_entrypoint

pytestmark = [pytest.mark.server, pytest.mark.mlflow, pytest.mark.timeout(180)]

INIT_SQL = REPO / "deploy" / "compose" / "postgres-init" / "01-databases.sql"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(versions[-1]) if versions else None


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the `postgres` account when we are root."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL")
    return [runuser, "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A live PostgreSQL with the databases `dynas` and `mlflow`; yields the URL prefix."""
    initdb, pg_ctl, psql = pg_tool("initdb"), pg_tool("pg_ctl"), pg_tool("psql")
    if not (initdb and pg_ctl and psql):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    # Not under pytest's tmp dir: its 0700 parents keep the `postgres` account out.
    base = Path(tempfile.mkdtemp(prefix="dynas-pg-"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(as_postgres_user([initdb, "-D", str(data), "-U", "dynas", "-A", "trust"]),
                   check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    subprocess.run(as_postgres_user([pg_ctl, "-D", str(data), "-o", options, "-l",
                                     str(data / "server.log"), "-w", "-t", "60", "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        psql_args = [psql, "-h", "127.0.0.1", "-p", str(port), "-U", "dynas", "-v",
                     "ON_ERROR_STOP=1"]
        subprocess.run([*psql_args, "-d", "postgres", "-c", "CREATE DATABASE dynas"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run([*psql_args, "-d", "dynas", "-f", str(INIT_SQL)], check=True,
                       capture_output=True, timeout=60)
        yield f"postgresql+psycopg://dynas@127.0.0.1:{port}"
    finally:
        subprocess.run(as_postgres_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


def test_job_store_runs_on_postgres(postgres: str) -> None:
    pytest.importorskip("psycopg")
    from dynas_service.jobs.store import JobStore
    from dynas_service.jobs.tables import JobRow

    store = JobStore(f"{postgres}/dynas")
    try:
        now = time.time()
        store.add_job(JobRow(
            id="job-pg", name="pg", dataset="digits", spec={"dataset": "digits", "seed": 3},
            dataset_info={"n_samples": 1797}, status="queued", created_at=now, queued_at=now,
        ))
        row = store.get_job("job-pg")
        assert row is not None and row.spec == {"dataset": "digits", "seed": 3}
        assert store.status_counts() == {"queued": 1}
        assert store.delete_job("job-pg") and store.get_job("job-pg") is None
    finally:
        store.close()


def wait_healthy(run_dir: Path, port: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the mlflow mode exited early"
        done = run_entrypoint("healthcheck", env={"DYNAS_RUN_DIR": str(run_dir),
                                                  "MLFLOW_PORT": str(port)}, dry_run=False)
        if done.returncode == 0:
            return
        time.sleep(1)
    raise AssertionError("the MLflow server never became healthy")


def test_mlflow_mode_tracks_into_postgres_with_proxied_artifacts(
    postgres: str, tmp_path: Path,
) -> None:
    pytest.importorskip("psycopg")
    import httpx
    from mlflow.tracking import MlflowClient

    port = free_port()
    artifacts = tmp_path / "artifacts"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLFLOW_", "DYNAS_"))}
    env.update({
        "DYNAS_RUN_DIR": str(tmp_path), "MLFLOW_BACKEND_STORE_URI": f"{postgres}/mlflow",
        "MLFLOW_ARTIFACTS_DESTINATION": str(artifacts), "MLFLOW_PORT": str(port),
        "MLFLOW_HOST": "127.0.0.1", "MLFLOW_WORKERS": "1",
    })
    log = (tmp_path / "mlflow.log").open("wb")
    proc = subprocess.Popen(["bash", str(ENTRYPOINT), "mlflow"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(tmp_path, port, proc, seconds=120)
        client = MlflowClient(tracking_uri=f"http://127.0.0.1:{port}")
        experiment = client.create_experiment(f"deploy-{secrets.token_hex(4)}")
        run = client.create_run(experiment)
        client.log_metric(run.info.run_id, "val_accuracy", 0.75, step=3)
        client.log_text(run.info.run_id, "proxied", "notes/hello.txt")
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [(m.value, m.step) for m in history] == [(0.75, 3)]
        # Proxied: the server wrote the file into its own destination folder.
        assert [p.read_text() for p in artifacts.rglob("hello.txt")] == ["proxied"]
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")
        foreign = httpx.get(f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search",
                            params={"max_results": 1}, headers={"Host": "evil.example"})
        assert foreign.status_code == 403, "foreign Host headers must be refused"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
