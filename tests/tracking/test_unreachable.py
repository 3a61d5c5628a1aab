"""Training goes on when the tracking server is down: calls return, the buffer stays
bounded, drops are counted and /healthz sees the degradation."""

from __future__ import annotations

import pytest

from dynas_service.tracking import MlflowObserver
from tests.tracking.conftest import SPEC, free_port
from tests.tracking.synthetic import Evolution, events, feed

pytestmark = pytest.mark.mlflow


def _long_evolution() -> Evolution:
    """10 slots x 30 epochs: 300 epoch records, plus starts and bests."""
    plan = [(f"i{k}", "fresh", None) for k in range(10)]
    return Evolution(plans=[plan], epochs_per_generation=30)


def test_observer_never_blocks_or_raises_when_mlflow_is_down() -> None:
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    observer = MlflowObserver(
        uri, "dynas", "job-x", "offline", SPEC, max_queue=50, connect_timeout_s=0.5
    )
    assert observer.run_id is None
    stream = list(events(_long_evolution()))
    feed(observer, stream)  # would hang (pytest timeout) if a call waited on the network
    observer.on_finish("finished", None)
    health = observer.health()
    assert health["status"] == "degraded"
    assert health["queue"] <= 50
    assert health["dropped"] > 0
    assert health["run_id"] is None
    observer.close(timeout=2)  # returns (possibly abandoning the daemon thread), never raises
    assert observer.health()["last_error"], "the failure is reported"


def test_observer_rejects_an_empty_uri() -> None:
    with pytest.raises(ValueError, match="tracking_uri"):
        MlflowObserver("", "dynas", "job", "name", {})
