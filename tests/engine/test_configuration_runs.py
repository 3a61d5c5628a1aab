"""Random, grid and progressive search end to end on a real local Ray, and a killed trial
actor that Tune retries from its checkpoint without losing the job."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from dynas_service.engine import read_best, read_trace, run_search
from dynas_service.engine.layout import JobLayout
from dynas_service.engine.state import load_state
from tests.engine.conftest import RecordingObserver

pytestmark = pytest.mark.ray


@pytest.mark.parametrize("algorithm", ["random", "grid", "progressive"])
def test_configuration_search_end_to_end(ray_local, make_request, tmp_path: Path,  # type: ignore[no-untyped-def]
                                         algorithm: str) -> None:
    options = {"max_epochs": 2}
    request = make_request(algorithm, algorithm_options=options, budget_trials=2)
    saved: list[dict] = []  # the persisted state, read while the search runs

    def read_state(record) -> None:  # type: ignore[no-untyped-def]
        if record.epoch == 2 and not saved:
            saved.append(load_state(JobLayout(tmp_path).state_dir) or {})

    observer = RecordingObserver(read_state)
    assert run_search(request, tmp_path, observer) == "finished"
    # A runner killed mid-search would resume from this, not from scratch.
    assert saved and saved[0]["started"] == 2 and saved[0]["resume_configs"]
    assert observer.finished == [("finished", None)]
    started = [i.individual_id for i in observer.starts]
    assert len(started) == len(set(started)) == 2
    for individual in started:
        epochs = [r.epoch for r in observer.records_of(individual)]
        assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) <= options["max_epochs"]
    if algorithm == "progressive":
        assert {observer.records_of(i)[0].reg_strength for i in started} == {1e-3}
    best = read_best(tmp_path)
    assert best is not None and best.value == max(r.value for r in observer.epochs)
    assert [b.value for b in observer.bests] == [p.value for p in read_trace(tmp_path)]
    trial_dirs = list(tmp_path.glob("ray/run-*/trial-*"))
    assert trial_dirs and all(len(list(d.glob("checkpoint_*"))) <= 1 for d in trial_dirs)


def _pid_of(job: Path, individual_id: str) -> int | None:
    for meta in sorted(job.glob("ray/run-*/*/checkpoint_*/engine.json")):
        data = json.loads(meta.read_text())
        if data["individual_id"] == individual_id:
            return int(data["pid"])
    return None


def test_a_killed_trial_is_retried_from_its_checkpoint(ray_local, make_request,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    killed: list[str] = []

    def kill_once(record) -> None:  # type: ignore[no-untyped-def]
        if killed or record.epoch != 2:
            return
        pid = _pid_of(tmp_path, record.individual_id)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            killed.append(record.individual_id)

    request = make_request("random", algorithm_options={"max_epochs": 4, "patience": 50},
                           budget_trials=1)
    observer = RecordingObserver(kill_once)
    assert run_search(request, tmp_path, observer) == "finished"
    assert killed, "no trial actor was killed"
    epochs = [r.epoch for r in observer.records_of(killed[0])]
    assert epochs[-1] == 4, epochs  # the job went on and the trial finished its epochs
    assert epochs[:2] == [1, 2] and 1 not in epochs[2:], epochs  # restored, not restarted
