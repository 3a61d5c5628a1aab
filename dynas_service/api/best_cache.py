"""A short-lived in-memory copy of each job's best summary for ``GET /jobs/{id}/best``.

The best is what clients poll hardest; serving it from memory for ``ttl`` seconds keeps
the answer off the database and the thread pool (a new best shows up at most ``ttl``
seconds late). Entries are whole JSON bodies; thread-safe.
"""

from __future__ import annotations

import threading
import time


class BestCache:
    """job id -> (time stored, JSON body of its BestSummary)."""

    def __init__(self, ttl: float = 0.25, max_entries: int = 1024) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds, got {ttl=}")
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> bytes | None:
        """The cached body if it is younger than ``ttl``."""
        entry = self._entries.get(job_id)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def put(self, job_id: str, body: bytes) -> None:
        """Remember ``body`` for ``job_id`` from now on."""
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[job_id] = (time.monotonic(), body)

    def forget(self, job_id: str) -> None:
        """Drop a job's entry (deleted jobs)."""
        with self._lock:
            self._entries.pop(job_id, None)
