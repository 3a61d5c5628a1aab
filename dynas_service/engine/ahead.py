"""``run_ahead``: iterate a generator on a background thread that stays ahead of its consumer.

The trainable uses it to train epoch k+1 while Tune reports epoch k (see
:mod:`dynas_service.engine.trainable`); nothing here knows about Tune or torch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def run_ahead(items: Iterator[T], discard: Callable[[T], None], depth: int = 1,
              wait_after: Callable[[T], bool] | None = None) -> Generator[T, None, None]:
    """Iterate ``items`` on a background thread that stays up to ``depth`` items ahead.

    After an item for which ``wait_after(item)`` is true the producer waits until the
    consumer is done with it (asks for the next one) before it computes the next: the
    consumer may end the iteration there, and work done ahead would be thrown away.
    Exceptions of ``items`` are raised to the consumer. When the consumer stops early
    (``close``, an exception, or Tune ending the trial with ``SystemExit`` inside
    ``report``), the producer stops after the item it is computing; items produced but
    never consumed are passed to ``discard``.
    """
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    halt = threading.Event()
    asked = threading.Condition()
    requests = 0  # items the consumer asked for so far

    def produce() -> None:
        made = 0
        try:
            for item in items:
                made += 1
                while not halt.is_set():
                    try:
                        slots.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                else:
                    discard(item)
                    return
                if wait_after is not None and wait_after(item):
                    with asked:
                        while requests <= made and not halt.is_set():
                            asked.wait(0.1)
                    if halt.is_set():
                        return
            slots.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(("error", exc))

    threading.Thread(target=produce, name="train-ahead", daemon=True).start()
    try:
        while True:
            with asked:
                requests += 1
                asked.notify_all()
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        halt.set()
        while True:  # the producer may block on a full queue until it sees ``halt``
            try:
                kind, value = slots.get_nowait()
            except queue.Empty:
                break
            if kind == "item":
                discard(value)
