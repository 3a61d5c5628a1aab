"""Helpers for the engine tests: tiny digits requests and an observer that records events."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo


class RecordingObserver:
    """Keeps every event; ``hook(record)`` runs on each epoch (to stop or kill things)."""

    def __init__(self, hook: Callable[[EpochRecord], None] | None = None) -> None:
        self.starts: list[IndividualInfo] = []
        self.epochs: list[EpochRecord] = []
        self.bests: list[BestRecord] = []
        self.finished: list[tuple[str, str | None]] = []
        self.hook = hook
        self.first_epoch = threading.Event()

    def on_individual_start(self, info: IndividualInfo) -> None:
        self.starts.append(info)

    def on_epoch(self, record: EpochRecord) -> None:
        self.epochs.append(record)
        self.first_epoch.set()
        if self.hook is not None:
            self.hook(record)

    def on_best(self, best: BestRecord) -> None:
        self.bests.append(best)

    def on_finish(self, status: str, error: str | None) -> None:
        self.finished.append((status, error))

    def records_of(self, individual_id: str) -> list[EpochRecord]:
        return [r for r in self.epochs if r.individual_id == individual_id]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engine-data")


@pytest.fixture
def make_request(data_dir: Path) -> Callable[..., Any]:
    """A SearchRequest on a ~300-sample digits subset with a 2-layer mlp of 8 units."""
    from dynas_service.engine import ModelOptions, SearchRequest
    from dynas_service.search import SearchSpace

    def build(algorithm: str, **overrides: Any) -> SearchRequest:
        fields: dict[str, Any] = {
            "job_id": "job", "algorithm": algorithm, "space": SearchSpace.default(True, 2),
            "dataset": "digits", "data_dir": data_dir,
            "model": ModelOptions("mlp", hidden_layers=2, initial_units=8),
            "sample": 0.17, "seed": 3, "budget_seconds": 240.0,
        }
        fields.update(overrides)
        return SearchRequest(**fields)

    return build
