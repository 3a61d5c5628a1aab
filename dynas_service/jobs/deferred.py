"""`DeferredObserver`: an observer built on a background thread, so a slow start (MLflow
opening or migrating its store takes seconds) never delays the search's first epoch.

Events that arrive before the real observer exists are buffered (bounded, oldest dropped)
and replayed in order once it does; after that every event is forwarded directly.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo, SearchObserver

_log = logging.getLogger(__name__)


class DeferredObserver:
    """Forwards `SearchObserver` events to ``factory()``'s result once it is built.

    ``factory`` may return ``None`` (e.g. tracking unavailable): events are then dropped.
    ``on_ready`` is called with the built observer (from the builder thread). Thread-safe.
    """

    def __init__(
        self,
        factory: Callable[[], SearchObserver | None],
        *,
        on_ready: Callable[[SearchObserver | None], None] | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        if max_buffer < 1:
            raise ValueError(f"max_buffer must be >= 1, got {max_buffer=}")
        self._factory = factory
        self._on_ready = on_ready
        self._buffer: deque[tuple[str, tuple[Any, ...]]] = deque(maxlen=max_buffer)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.target: SearchObserver | None = None
        self._thread = threading.Thread(target=self._build, name="observer-builder", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        try:
            target = self._factory()
        except Exception:
            _log.exception("building the deferred observer failed; its events are dropped")
            target = None
        self._replay(target)
        if self._on_ready is not None:
            try:
                self._on_ready(target)
            except Exception:
                _log.exception("on_ready callback failed")

    def _replay(self, target: SearchObserver | None) -> None:
        while True:
            with self._lock:
                if not self._buffer:
                    self.target = target
                    self._ready.set()
                    return
                pending = list(self._buffer)
                self._buffer.clear()
            for method, args in pending:
                self._call(target, method, args)

    @staticmethod
    def _call(target: SearchObserver | None, method: str, args: tuple[Any, ...]) -> None:
        if target is None:
            return
        try:
            getattr(target, method)(*args)
        except Exception:
            _log.exception("deferred observer failed in %s", method)

    def _event(self, method: str, *args: Any) -> None:
        with self._lock:
            if not self._ready.is_set():
                self._buffer.append((method, args))
                return
        self._call(self.target, method, args)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the real observer is built (or failed); returns whether it is."""
        return self._ready.wait(timeout)

    def on_individual_start(self, info: IndividualInfo) -> None:
        self._event("on_individual_start", info)

    def on_epoch(self, record: EpochRecord) -> None:
        self._event("on_epoch", record)

    def on_best(self, best: BestRecord) -> None:
        self._event("on_best", best)

    def on_finish(self, status: str, error: str | None) -> None:
        self._event("on_finish", status, error)

    def close(self, timeout: float = 60.0) -> None:
        """Wait for the builder (at most ``timeout`` s), then close the real observer."""
        if not self.wait_ready(timeout):
            _log.warning("the deferred observer was not ready after %s s; not closing it", timeout)
            return
        closer = getattr(self.target, "close", None)
        if closer is not None:
            closer()
