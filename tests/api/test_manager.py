"""JobManager lifecycle rules with real processes standing in for runners (no Ray)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from dynas_service.jobs import JobConflictError, JobManager, JobNotFoundError, JobStore
from dynas_service.jobs.processes import process_token, runner_alive
from dynas_service.jobs.ray_cluster import gcs_reachable, split_address
from dynas_service.settings import Settings
from tests.api.conftest import UNREACHABLE_RAY
from tests.api.test_store import new_job


@pytest.fixture
def manager(settings: Settings) -> Iterator[JobManager]:
    settings.jobs_dir().mkdir(parents=True)
    store = JobStore(settings.resolved_database_url())
    yield JobManager(settings, store, ray_address=UNREACHABLE_RAY)
    store.close()


@pytest.fixture
def fake_runner() -> Iterator[subprocess.Popen]:
    """A process whose command line looks like a runner of job 'b'*32."""
    job_id = "b" * 32
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "dynas_service.jobs.runner", job_id]
    )
    yield process
    process.kill()
    process.wait()


def test_runner_liveness_checks_pid_and_start_time(fake_runner: subprocess.Popen) -> None:
    token = process_token(fake_runner.pid)
    assert token is not None
    assert runner_alive(fake_runner.pid, token)
    assert not runner_alive(fake_runner.pid, str(int(token) - 1))  # a recycled pid
    assert not runner_alive(None, token)
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert not runner_alive(done.pid, None, done)
    assert not runner_alive(done.pid, None)


def test_reconcile_interrupts_jobs_whose_runner_is_gone(
    manager: JobManager, fake_runner: subprocess.Popen
) -> None:
    alive = new_job(manager.store, "b" * 32, status="running")
    dead = new_job(manager.store, "d" * 32, status="running")
    stopping = new_job(manager.store, "e" * 32, status="stopping")
    manager.store.update_job(
        alive,
        runner_pid=fake_runner.pid,
        runner_token=process_token(fake_runner.pid),
        run_started_at=time.time() - 5,
    )
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    manager.store.update_job(dead, runner_pid=exited.pid, run_started_at=time.time() - 5)
    manager.store.update_job(stopping, runner_pid=exited.pid)
    assert sorted(manager.reconcile()) == sorted([dead, stopping])
    assert manager.get(alive).status == "running"
    lost = manager.get(dead)
    assert lost.status == "interrupted" and lost.error and lost.elapsed_s >= 5
    assert manager.get(stopping).status == "stopped"


def test_stop_writes_the_stop_file_and_is_a_noop_when_not_running(
    manager: JobManager, fake_runner: subprocess.Popen
) -> None:
    job = new_job(manager.store, "b" * 32, status="running")
    manager.store.update_job(
        job, runner_pid=fake_runner.pid, runner_token=process_token(fake_runner.pid)
    )
    manager.job_dir(job).mkdir()
    row, requested = manager.stop(job)
    assert requested and row.status == "stopping"
    assert (manager.job_dir(job) / "STOP").exists()
    finished = new_job(manager.store, "f" * 32, status="finished")
    manager.job_dir(finished).mkdir()
    row, requested = manager.stop(finished)
    assert not requested and row.status == "finished"


def test_stopping_a_job_without_a_live_runner_stops_it_at_once(manager: JobManager) -> None:
    job = new_job(manager.store, "a" * 32, status="running")
    manager.job_dir(job).mkdir()
    row, requested = manager.stop(job)
    assert requested and row.status == "stopped"


def test_delete_refuses_a_running_job_and_removes_a_finished_one(
    manager: JobManager, fake_runner: subprocess.Popen
) -> None:
    running = new_job(manager.store, "b" * 32, status="running")
    manager.store.update_job(
        running, runner_pid=fake_runner.pid, runner_token=process_token(fake_runner.pid)
    )
    with pytest.raises(JobConflictError, match="stop it"):
        manager.delete(running)
    done = new_job(manager.store, "f" * 32, status="finished")
    manager.job_dir(done).mkdir()
    (manager.job_dir(done) / "trace.jsonl").write_text("{}\n")
    manager.delete(done)
    assert not manager.job_dir(done).exists()
    with pytest.raises(JobNotFoundError):
        manager.get(done)


def test_resume_refuses_active_jobs(manager: JobManager) -> None:
    job = new_job(manager.store, "a" * 32, status="running")
    with pytest.raises(JobConflictError, match="resumed"):
        manager.resume(job)
    with pytest.raises(JobNotFoundError):
        manager.resume("0" * 32)


def test_ray_address_helpers() -> None:
    assert split_address("10.0.0.1:6379") == ("10.0.0.1", 6379)
    with pytest.raises(ValueError, match="host:port"):
        split_address("localhost")
    assert not gcs_reachable(UNREACHABLE_RAY)


def test_unknown_cluster_means_gpus_unknown(manager: JobManager) -> None:
    assert manager.cluster_gpus() is None
    assert manager.ray_reachable() is False


def test_a_resume_budget_is_added_to_what_the_job_spent(manager: JobManager) -> None:
    from dynas_service.jobs import BudgetSpec
    from dynas_service.jobs.manager import continuation_budget

    job = new_job(manager.store, "a" * 32, status="stopped")
    manager.store.update_job(job, elapsed_s=30.0, trials_total=7)
    row = manager.get(job)
    assert continuation_budget(BudgetSpec(seconds=10), row) == {"seconds": 40.0, "trials": None}
    assert continuation_budget(BudgetSpec(trials=3), row) == {"seconds": None, "trials": 10}
    until_stopped = BudgetSpec(seconds=None, trials=None)
    assert continuation_budget(until_stopped, row) == {"seconds": None, "trials": None}
