"""Shared fixtures. Heavy ones (Ray, MLflow, servers) are session-scoped and opt-in."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# One torch thread per process: faster for small models here and avoids oversubscribing
# the 2 cores that Ray workers share.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")


@pytest.fixture(scope="session")
def ray_local() -> Iterator[str]:
    """A real local Ray with 2 CPUs for the whole session; yields its GCS address.

    Other processes (runner subprocesses in end-to-end tests) can join it with
    ``ray.init(address=<yielded address>)``.
    """
    import ray

    if not ray.is_initialized():
        # address="local": never join a cluster another process started with `ray start`.
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()
