"""The durable best model: ``best/current.json``, immutable ``best/v<k>`` zips, the trace.

Written only by the driver (one writer); read by anyone at any time without waiting on
training. A new best is published in this order: the model zip of version ``k`` is written
to a temporary name and renamed into ``best/v<k>/``; then ``current.json`` is replaced
atomically; then the trace point is appended. A reader therefore never sees a torn file,
and ``current.json`` always names a complete zip.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from dynas_service.engine.layout import JobLayout, append_line, write_json_atomic
from dynas_service.events import BestRecord, TracePoint


def is_better(value: float, best: float | None, higher_is_better: bool) -> bool:
    """Strictly better than ``best`` (any finite value beats ``None``)."""
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value > best if higher_is_better else value < best


class BestWriter:
    """Publishes improvements of the best model; monotone across resumed runs."""

    def __init__(self, job_dir: Path) -> None:
        self.layout = JobLayout(Path(job_dir))
        self.current = read_best(job_dir)

    @property
    def value(self) -> float | None:
        return None if self.current is None else self.current.value

    def offer(self, record: BestRecord, save_model: Any) -> BestRecord | None:
        """Publish ``record`` if it beats the current best; returns the published record.

        ``save_model(path)`` writes the model zip and returns field updates for the record
        (for example the model's ``layer_sizes`` and ``parameters``); ``model_path`` and
        ``version`` are filled in here.
        """
        if not is_better(record.value, self.value, record.higher_is_better):
            return None
        version = 0 if self.current is None else self.current.version + 1
        final = self.layout.best_model(version)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp")
        updates = save_model(tmp) or {}
        os.replace(tmp, final)
        published = replace(record, version=version, model_path=str(final), **updates)
        write_json_atomic(self.layout.best_json, published.to_dict())
        point = TracePoint(published.found_at_s, published.value, published.trial_id,
                           published.epoch)
        append_line(self.layout.trace, json.dumps(point.__dict__))
        self.current = published
        return published


def read_best(job_dir: Path | str) -> BestRecord | None:
    """The current best of a job, or ``None`` before the first epoch; never blocks."""
    path = JobLayout(Path(job_dir)).best_json
    try:
        return BestRecord.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return None


def read_trace(job_dir: Path | str) -> list[TracePoint]:
    """The performance trace (best-so-far steps in time order); ignores a partial last line."""
    path = JobLayout(Path(job_dir)).trace
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    points = []
    for line in text.splitlines():
        try:
            points.append(TracePoint(**json.loads(line)))
        except (ValueError, TypeError):
            continue  # a line being appended right now
    return points
