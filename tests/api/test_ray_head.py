"""The embedded local Ray head: started once with ``ray start --head``, its address kept in
``<data_dir>/ray-address`` and reused while it answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynas_service.jobs.ray_cluster import LocalRayHead, cluster_resources, gcs_reachable
from tests.api.conftest import kill_ray_head


@pytest.mark.ray
@pytest.mark.timeout(240)
def test_the_head_is_started_once_recorded_and_reused(tmp_path: Path) -> None:
    head = LocalRayHead(tmp_path, num_cpus=1)
    assert head.recorded_address() is None
    address = head.ensure()
    port = int(address.rsplit(":", 1)[1])
    try:
        assert (tmp_path / "ray-address").read_text().strip() == address
        assert gcs_reachable(address)
        resources = cluster_resources(address)
        assert resources is not None and resources["CPU"] == 1
        assert LocalRayHead(tmp_path, num_cpus=1).ensure() == address  # an API restart
        assert head.stop() > 0
        assert not gcs_reachable(address)
        assert head.recorded_address() is None
    finally:
        kill_ray_head(port)  # in case an assertion above failed before stop()
