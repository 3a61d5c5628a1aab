"""``run_ahead``: the trainable's producer thread for trials no scheduler pauses (an epoch
trains while the previous one's result travels to the driver)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from dynas_service.engine.ahead import run_ahead


def counted(n: int, produced: list[int]) -> Iterator[int]:
    """0..n-1, each appended to ``produced`` when it is made."""
    for i in range(n):
        produced.append(i)
        yield i


def test_items_arrive_in_order_and_the_producer_runs_ahead() -> None:
    produced: list[int] = []
    consumed = []
    ahead = run_ahead(counted(5, produced), discard=lambda _: None)
    for value in ahead:
        time.sleep(0.05)  # a slow consumer: the producer is already on the next item
        consumed.append((value, len(produced)))
    assert [v for v, _ in consumed] == [0, 1, 2, 3, 4]
    assert consumed[0][1] >= 2  # while item 0 was consumed, item 1 was already made


def test_errors_of_the_producer_reach_the_consumer() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise RuntimeError("epoch failed")

    ahead = run_ahead(items(), discard=lambda _: None)
    assert next(ahead) == 1
    with pytest.raises(RuntimeError, match="epoch failed"):
        next(ahead)


def test_stopping_early_discards_unconsumed_items_and_stops_the_producer() -> None:
    discarded: list[int] = []
    finished = threading.Event()

    def items() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            finished.set()

    ahead = run_ahead(items(), discard=discarded.append, depth=2)
    assert next(ahead) == 0
    time.sleep(0.2)  # let the producer fill the queue and block on it
    with pytest.raises(SystemExit):  # how Tune ends a trial inside ``report``
        try:
            next(ahead)
            raise SystemExit(0)
        finally:
            ahead.close()
    assert finished.wait(5), "the producer kept running"
    assert discarded and all(i > 1 for i in discarded)  # produced, never consumed


def test_the_producer_waits_after_an_item_the_consumer_may_end_on() -> None:
    produced: list[int] = []
    seen = []
    gated = run_ahead(counted(5, produced), discard=lambda _: None, wait_after=lambda i: i == 2)
    for value in gated:
        time.sleep(0.1)  # a slow consumer: time for the producer to run ahead if it may
        seen.append((value, len(produced)))
    assert [v for v, _ in seen] == [0, 1, 2, 3, 4]
    assert dict(seen)[1] == 3  # ran ahead past item 1 ...
    assert dict(seen)[2] == 3  # ... but not past item 2 while it was consumed
