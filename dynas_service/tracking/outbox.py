"""A bounded, thread-safe FIFO that drops its oldest items instead of blocking the producer."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Outbox(Generic[T]):
    """Events waiting for the MLflow worker thread.

    ``put`` never blocks: beyond ``capacity`` items the oldest one is discarded and counted
    in :attr:`dropped`. One consumer calls :meth:`take`; any number of producers call
    :meth:`put`. All methods are thread-safe.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity=}")
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._dropped = 0
        self._puts = 0
        self._taken = 0
        self._overflowed = 0
        self._cond = threading.Condition()

    def put(self, item: T) -> None:
        """Append ``item``; drop the oldest item when the outbox is full."""
        with self._cond:
            if len(self._items) >= self._capacity:
                self._items.popleft()
                self._dropped += 1
                self._overflowed += 1
            self._items.append(item)
            self._puts += 1
            self._cond.notify()

    def take(self, max_items: int, timeout: float) -> list[T]:
        """Remove and return up to ``max_items`` oldest items, waiting up to ``timeout`` s
        for the first one (an empty list after the timeout)."""
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)
            n = min(max_items, len(self._items))
            self._taken += n
            return [self._items.popleft() for _ in range(n)]

    def wake(self) -> None:
        """Wake a consumer waiting in :meth:`take` (used to request a flush or a stop)."""
        with self._cond:
            self._cond.notify_all()

    def count_dropped(self, n: int) -> None:
        """Count ``n`` items the consumer had to give up on (e.g. after failed retries)."""
        with self._cond:
            self._dropped += n

    @property
    def puts(self) -> int:
        """Items ever put."""
        with self._cond:
            return self._puts

    @property
    def settled(self) -> int:
        """Items ever taken by the consumer or pushed out by overflow (``puts - depth``)."""
        with self._cond:
            return self._taken + self._overflowed

    @property
    def depth(self) -> int:
        """Items waiting now."""
        with self._cond:
            return len(self._items)

    @property
    def dropped(self) -> int:
        """Items discarded so far (overflow plus those the consumer gave up on)."""
        with self._cond:
            return self._dropped
