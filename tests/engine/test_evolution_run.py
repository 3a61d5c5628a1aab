"""The evolution on a real local Ray: lineage, lambda per generation, stop, resume, best."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from dynas_service.engine import read_best, read_trace, run_search
from dynas_service.engine.layout import JobLayout
from dynas_service.engine.state import load_state
from tests.engine.conftest import RecordingObserver

pytestmark = pytest.mark.ray
OPTIONS = {"population": 2, "n_fresh": 1, "epochs_per_generation": 2}


def _run_until_generation(request, job: Path, observer: RecordingObserver, generations: int):  # type: ignore[no-untyped-def]
    """Run in a thread; write STOP once ``generations`` generations were saved."""
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("status", run_search(request, job, observer)))
    thread.start()
    layout = JobLayout(job)
    while thread.is_alive():
        state = load_state(layout.state_dir) if (layout.state_dir / "state.pkl").exists() else None
        if state and state["evolution"].generation >= generations:
            stop_at = time.monotonic()
            layout.stop_file.write_text("stop")
            thread.join(60)
            result["stop_seconds"] = time.monotonic() - stop_at
            break
        time.sleep(0.2)
    thread.join(240)
    return result


def _check_lineage(observer: RecordingObserver) -> None:
    for info in observer.starts:
        first = observer.records_of(info.individual_id)[0]
        if info.origin == "fresh":
            assert (first.epoch, first.age) == (1, 1), info
        elif info.origin == "clone":
            parent_ages = {r.age for r in observer.records_of(info.parent_id or "")}
            assert first.epoch == 1 and first.age - 1 in parent_ages, info


def test_evolution_stops_resumes_and_keeps_its_best(  # type: ignore[no-untyped-def]
        ray_local, make_request, tmp_path: Path) -> None:
    request = make_request("evolution", algorithm_options=OPTIONS)
    job = tmp_path / "job"
    observer = RecordingObserver()
    result = _run_until_generation(request, job, observer, generations=3)
    assert result["status"] == "stopped" and observer.finished == [("stopped", None)]
    assert result["stop_seconds"] < 30  # generous: the machine is shared; usually ~1 s
    _check_lineage(observer)
    assert {i.origin for i in observer.starts} >= {"fresh", "clone"}
    state = load_state(JobLayout(job).state_dir)
    assert state is not None
    sizes = {len(state["resume_configs"])}
    assert sizes <= {2 * OPTIONS["population"] + OPTIONS["n_fresh"],
                     2 * (OPTIONS["population"] + 1) + OPTIONS["n_fresh"]}
    first_best = read_best(job)
    assert first_best is not None and Path(first_best.model_path).is_file()
    assert first_best.value == max(r.value for r in observer.epochs)
    generation_before = state["evolution"].generation
    before = read_trace(job)

    resumed = RecordingObserver()
    more = make_request("evolution", algorithm_options=OPTIONS,
                        budget_trials=state["created"] + 4)
    assert run_search(more, job, resumed, resume=True) == "finished"
    continued = {c["individual_id"] for c in state["resume_configs"]}
    assert continued & {i.individual_id for i in resumed.starts}
    for info in resumed.starts:
        if info.individual_id in continued and info.origin == "continue":
            assert resumed.records_of(info.individual_id)[0].epoch > 1
    assert min(r.t for r in resumed.epochs) > max(p.t for p in before)
    assert load_state(JobLayout(job).state_dir)["evolution"].generation > generation_before
    trace = read_trace(job)
    assert trace[: len(before)] == before
    values = [p.value for p in trace]
    assert values == sorted(values) and read_best(job).value == values[-1]  # type: ignore[union-attr]


def _worker_pid(job: Path, individual_id: str) -> int | None:
    for meta in job.glob("ray/run-*/*/checkpoint_*/engine.json"):
        data = json.loads(meta.read_text())
        if data["individual_id"] == individual_id:
            return int(data["pid"])
    return None


@pytest.mark.timeout(300)
def test_a_stuck_slot_is_dropped_and_the_generations_go_on(  # type: ignore[no-untyped-def]
        ray_local, make_request, tmp_path: Path) -> None:
    """SIGSTOP freezes one trial worker in the middle of its generation (a hung process):
    after ``stuck_timeout_s`` the generation goes on without it and the job finishes."""
    job = tmp_path / "job"
    frozen: list[tuple[int, int]] = []  # (pid, epochs recorded when frozen)

    def freeze_once(record) -> None:  # type: ignore[no-untyped-def]
        if frozen or record.epoch != 1 or len(observer.epochs) < 8:
            return
        pid = _worker_pid(job, record.individual_id)
        if pid is not None and pid != os.getpid():
            os.kill(pid, signal.SIGSTOP)
            frozen.append((pid, len(observer.epochs)))

    observer = RecordingObserver(freeze_once)
    request = make_request("evolution", algorithm_options=OPTIONS, budget_trials=14,
                           stuck_timeout_s=4.0)
    try:
        status = run_search(request, job, observer)
    finally:
        for pid, _ in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert frozen, "no worker was frozen"
    assert status == "finished" and observer.finished == [("finished", None)]
    state = load_state(JobLayout(job).state_dir)
    assert state is not None and state["created"] >= 14  # the budget was reached
    assert len(observer.epochs) > frozen[0][1] + 4  # training went on after the freeze
