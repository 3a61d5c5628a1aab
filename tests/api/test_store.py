"""JobStore and StoreObserver against a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo
from dynas_service.jobs import JobStore, StoreObserver
from dynas_service.jobs.tables import JobRow


def new_job(store: JobStore, job_id: str = "a" * 32, status: str = "running") -> str:
    now = time.time()
    store.add_job(
        JobRow(
            id=job_id,
            name="n",
            dataset="digits",
            spec={"dataset": "digits"},
            dataset_info={},
            status=status,
            created_at=now,
            queued_at=now,
            elapsed_s=0.0,
            trials_running=0,
            trials_finished=0,
            trials_total=0,
            epochs_trained=0,
            best_version=-1,
            resume_count=0,
        )
    )
    return job_id


def best(version: int, value: float, t: float = 1.0) -> BestRecord:
    return BestRecord(
        "accuracy",
        value,
        True,
        f"t{version}",
        f"i{version}",
        version,
        t,
        {"learning_rate": 1e-3},
        [3, 4],
        99,
        f"best/v{version}/m.zip",
        version,
    )


def epoch(individual: str, slot: str, value: float, t: float, n: int = 1) -> EpochRecord:
    return EpochRecord(
        individual, slot, n, n, t, "accuracy", value, 0.5, 0.4, 1e-4, [10, 12], 500, 0.1
    )


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")


def test_jobs_are_listed_newest_first_and_updated_conditionally(store: JobStore) -> None:
    first = new_job(store, "1" * 32)
    second = new_job(store, "2" * 32)
    assert [j.id for j in store.list_jobs()] == [second, first]
    assert store.update_job(first, only_if_status=("queued",), status="x") is False
    assert store.update_job(first, only_if_status=("running",), status="stopping") is True
    assert store.get_job(first).status == "stopping"
    assert store.status_counts() == {"stopping": 1, "running": 1}
    assert store.delete_job(first) and store.get_job(first) is None
    assert not store.delete_job(first)


def test_best_only_moves_forward_and_each_improvement_is_a_trace_point(store: JobStore) -> None:
    job = new_job(store)
    assert store.record_best(job, best(1, 0.5, t=1.0).to_dict())
    assert store.record_best(job, best(2, 0.7, t=2.0).to_dict())
    assert not store.record_best(job, best(1, 0.5, t=1.0).to_dict())  # a stale replay
    assert store.get_job(job).best["value"] == 0.7
    assert [(p.t, p.value) for p in store.trace_points(job)] == [(1.0, 0.5), (2.0, 0.7)]


def test_store_is_shared_between_two_connections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    writer, reader = JobStore(url), JobStore(url)
    job = new_job(writer)
    writer.record_best(job, best(1, 0.9).to_dict())
    assert reader.get_job(job).best["version"] == 1


def test_observer_tracks_trials_lineage_counters_and_best(store: JobStore) -> None:
    job = new_job(store)
    observer = StoreObserver(store, job, flush_interval=0.05)
    observer.on_individual_start(IndividualInfo("i1", "slot1", None, "fresh", {"lr": 1}, 0.0))
    observer.on_epoch(epoch("i1", "slot1", 0.6, 1.0))
    observer.on_epoch(epoch("i1", "slot1", 0.5, 2.0, n=2))
    observer.on_individual_start(IndividualInfo("i2", "slot1", "i1", "clone", {"lr": 2}, 2.5))
    observer.on_epoch(epoch("i2", "slot1", 0.8, 3.0, n=3))
    observer.on_best(best(1, 0.8, t=3.0))
    row = store.get_job(job)
    assert (row.trials_running, row.trials_finished, row.trials_total) == (1, 1, 2)
    assert row.epochs_trained == 3 and row.best["value"] == 0.8
    trials = {t.individual_id: t for t in store.list_trials(job)}
    assert trials["i1"].best_metric == 0.6 and trials["i1"].last_metric == 0.5
    assert trials["i1"].epochs == 2 and trials["i1"].status == "finished"
    assert trials["i2"].parent_id == "i1" and trials["i2"].origin == "clone"
    observer.on_finish("stopped", None)
    assert store.get_job(job).trials_running == 0
    assert {t.status for t in store.list_trials(job)} == {"finished", "stopped"}


def test_observer_flushes_in_the_background(store: JobStore) -> None:
    job = new_job(store)
    observer = StoreObserver(store, job, flush_interval=0.05)
    observer.on_epoch(epoch("i1", "s", 0.1, 1.0))
    deadline = time.monotonic() + 5
    while store.get_job(job).epochs_trained == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.get_job(job).epochs_trained == 1
    observer.close()


def test_running_limit_counts_only_what_can_train_at_once(store: JobStore) -> None:
    job = new_job(store)
    observer = StoreObserver(store, job, flush_interval=10, running_limit=2)
    for i in range(4):
        observer.on_individual_start(IndividualInfo(f"i{i}", f"s{i}", None, "fresh", {}, float(i)))
    observer.flush()
    assert store.get_job(job).trials_running == 2
    statuses = {t.individual_id: t.status for t in store.list_trials(job)}
    assert statuses == {"i0": "finished", "i1": "finished", "i2": "running", "i3": "running"}
    observer.close()


def test_a_new_observer_marks_leftover_running_trials_stopped(store: JobStore) -> None:
    job = new_job(store)
    first = StoreObserver(store, job, flush_interval=10)
    first.on_individual_start(IndividualInfo("i1", "s1", None, "fresh", {}, 0.0))
    first.flush()  # the runner dies here: no on_finish
    second = StoreObserver(store, job, flush_interval=10)
    second.flush()
    assert store.list_trials(job)[0].status == "stopped"
    second.on_epoch(epoch("i1", "s1", 0.3, 5.0))
    second.close()
    assert store.list_trials(job)[0].status == "running"
    first.close()


def test_flush_interval_must_be_positive(store: JobStore) -> None:
    with pytest.raises(ValueError, match="flush_interval"):
        StoreObserver(store, new_job(store), flush_interval=0)
