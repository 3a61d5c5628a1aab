"""The durable best model: monotone, atomic for a concurrent reader, trace tolerant."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from dynas_service.engine import read_best, read_trace
from dynas_service.engine.best import BestWriter, is_better
from dynas_service.events import BestRecord


def _record(value: float, higher: bool = True) -> BestRecord:
    return BestRecord("accuracy", value, higher, "t1", "ind-1", 1, value * 10, {}, [3], 10, "")


def _write_model(path: Path) -> dict:
    path.write_bytes(b"zip" * 1000)
    return {"layer_sizes": [4, 2]}


def test_only_improvements_are_published(tmp_path: Path) -> None:
    writer = BestWriter(tmp_path)
    published = [writer.offer(_record(v), _write_model) for v in (0.5, 0.4, 0.5, 0.7)]
    assert [p is not None for p in published] == [True, False, False, True]
    best = read_best(tmp_path)
    assert best is not None and best.value == 0.7 and best.version == 1
    assert best.layer_sizes == [4, 2] and Path(best.model_path).is_file()
    assert [p.value for p in read_trace(tmp_path)] == [0.5, 0.7]


def test_lower_is_better_and_non_finite(tmp_path: Path) -> None:
    writer = BestWriter(tmp_path)
    assert writer.offer(_record(float("nan"), False), _write_model) is None
    writer.offer(_record(2.0, False), _write_model)
    writer.offer(_record(1.0, False), _write_model)
    assert [p.value for p in read_trace(tmp_path)] == [2.0, 1.0]
    assert is_better(0.9, None, True) and not is_better(float("inf"), 1.0, True)


def test_a_new_writer_continues_the_old_best(tmp_path: Path) -> None:
    BestWriter(tmp_path).offer(_record(0.6), _write_model)
    second = BestWriter(tmp_path)
    assert second.offer(_record(0.55), _write_model) is None
    assert second.offer(_record(0.65), _write_model).version == 1  # type: ignore[union-attr]


def test_reader_never_sees_a_torn_or_worse_best(tmp_path: Path) -> None:
    writer = BestWriter(tmp_path)
    done = threading.Event()
    seen: list[float] = []
    problems: list[str] = []

    def read_loop() -> None:
        while not done.is_set():
            best = read_best(tmp_path)
            if best is None:
                continue
            if not Path(best.model_path).is_file():
                problems.append(f"missing {best.model_path}")
            seen.append(best.value)

    reader = threading.Thread(target=read_loop)
    reader.start()
    for step in range(300):
        writer.offer(_record(step / 300), _write_model)
    done.set()
    reader.join()
    assert not problems
    assert len(seen) > 10 and seen == sorted(seen)
    trace = [p.value for p in read_trace(tmp_path)]
    assert trace == sorted(trace) and len(trace) == 300


def test_trace_skips_a_partial_last_line(tmp_path: Path) -> None:
    (tmp_path / "trace.jsonl").write_text(
        json.dumps({"t": 1.0, "value": 0.5, "trial_id": "a", "epoch": 1}) + '\n{"t": 2.0, "va'
    )
    assert [p.value for p in read_trace(tmp_path)] == [0.5]
    assert read_best(tmp_path / "nothing") is None


@pytest.mark.parametrize("bad", [{"budget_seconds": -1.0}, {"algorithm": "bogus"},
                                 {"budget_trials": 0}, {"cpus_per_trial": 0},
                                 {"stuck_timeout_s": 0.0}])
def test_request_validation(make_request, bad: dict) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        make_request(bad.pop("algorithm", "random"), **bad)
