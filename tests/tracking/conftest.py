"""Fixtures: one real sqlite MLflow store per module and a tracked synthetic evolution."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tracking.synthetic import Event, ModelWriter, events, feed, small_evolution

SPEC = {
    "dataset": "digits",
    "algorithm": "evolution",
    "budget": {"seconds": 60, "trials": None},
    "model": {"family": "mlp", "hidden_layers": 2},
}


def nn_model_writer(directory: Path) -> ModelWriter | None:
    """Writes real model zips with ``dynas_service.nn``; ``None`` if nn is not importable."""
    try:
        import torch

        from dynas_service.nn import ArchitectureSpec, build_model, save_model_zip
    except ImportError:
        return None

    def write(individual: str, version: int, sizes: list[int]) -> str:
        spec = ArchitectureSpec(
            family="mlp",
            input_shape=(64,),
            n_outputs=10,
            task="classification",
            hidden_sizes=tuple(sizes),
            dropout=tuple(0.0 for _ in sizes),
        )
        model = build_model(spec, generator=torch.Generator().manual_seed(version))
        path = directory / f"{individual}_v{version}.safetensors.zip"
        save_model_zip(model, path)
        return str(path)

    return write


@dataclass
class TrackedJob:
    uri: str
    observer: object
    stream: list[Event]
    has_models: bool


def free_port() -> int:
    """A localhost port that nothing listens on (closed again before it is returned)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def feed_in_phases(observer: object, stream: list[Event], phases: int) -> None:
    """Feed ``stream`` in ``phases`` parts, letting the observer flush after each part (as
    when training is slower than tracking)."""
    size = -(-len(stream) // phases)
    for start in range(0, len(stream), size):
        feed(observer, stream[start : start + size])
        assert observer.flush(timeout=60)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty sqlite MLflow database with every migration applied (done once: ~5 s)."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


def fresh_store(migrated_db: Path, directory: Path) -> Path:
    """A copy of the migrated database in ``directory``."""
    target = directory / "mlflow.db"
    shutil.copyfile(migrated_db, target)
    return target


@pytest.fixture(scope="module")
def tracked_job(
    tmp_path_factory: pytest.TempPathFactory, migrated_db: Path
) -> Iterator[TrackedJob]:
    """A small evolution fed to an ``MlflowObserver`` on a fresh sqlite store, finished and
    closed; fed in 3 phases with flushes, logging the best model whenever it improved
    (``model_interval_s=0``)."""
    from dynas_service.tracking import MlflowObserver

    root = tmp_path_factory.mktemp("mlflow")
    writer = nn_model_writer(root)
    stream = list(events(small_evolution(), writer))
    uri = f"sqlite:///{fresh_store(migrated_db, root)}"
    observer = MlflowObserver(
        uri, "dynas-test", "job-1", "demo job", SPEC, model_interval_s=0, connect_timeout_s=60
    )
    feed_in_phases(observer, stream, phases=3)
    observer.on_finish("finished", None)
    assert observer.close(timeout=120), "the tracking worker did not finish"
    yield TrackedJob(uri, observer, stream, writer is not None)
