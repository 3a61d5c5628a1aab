"""DeferredObserver: events before the real observer exists are replayed in order."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from dynas_service.events import IndividualInfo
from dynas_service.jobs.deferred import DeferredObserver


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.closed = False

    def on_individual_start(self, info: IndividualInfo) -> None:
        self.calls.append(("start", info.individual_id))

    def on_epoch(self, record: Any) -> None:
        self.calls.append(("epoch", record))

    def on_best(self, best: Any) -> None:
        self.calls.append(("best", best))

    def on_finish(self, status: str, error: str | None) -> None:
        self.calls.append(("finish", status))

    def close(self) -> None:
        self.closed = True


def info(name: str) -> IndividualInfo:
    return IndividualInfo(name, "slot", None, "fresh", {}, 0.0)


def test_events_wait_for_the_slow_observer_and_keep_their_order() -> None:
    gate = threading.Event()
    recorder = Recorder()
    ready: list[Any] = []

    def build() -> Recorder:
        gate.wait(5)
        return recorder

    deferred = DeferredObserver(build, on_ready=ready.append)
    deferred.on_individual_start(info("a"))
    deferred.on_epoch("e1")
    assert recorder.calls == []  # still building, nothing blocked
    gate.set()
    assert deferred.wait_ready(5)
    deferred.on_best("b")
    deferred.on_finish("finished", None)
    deferred.close()
    assert recorder.calls == [
        ("start", "a"),
        ("epoch", "e1"),
        ("best", "b"),
        ("finish", "finished"),
    ]
    assert recorder.closed and ready == [recorder]


@pytest.mark.parametrize("factory", [lambda: None, lambda: 1 / 0])
def test_a_missing_or_failing_observer_drops_events(factory: Any) -> None:
    deferred = DeferredObserver(factory)
    assert deferred.wait_ready(5)
    deferred.on_epoch("e")
    deferred.close()
    assert deferred.target is None


def test_the_buffer_is_bounded() -> None:
    gate = threading.Event()
    recorder = Recorder()
    deferred = DeferredObserver(lambda: (gate.wait(5), recorder)[1], max_buffer=2)
    for i in range(5):
        deferred.on_epoch(i)
    gate.set()
    deferred.close()
    assert recorder.calls == [("epoch", 3), ("epoch", 4)]
    with pytest.raises(ValueError, match="max_buffer"):
        DeferredObserver(lambda: None, max_buffer=0)
