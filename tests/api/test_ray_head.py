"""The embedded local Ray head: started once with ``ray start --head``, its address kept in
``<data_dir>/ray-address`` and reused while it answers; only clients with its token (in
``<data_dir>/ray-auth-token``) may join."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
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
        token = tmp_path / "ray-auth-token"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text()) == 64
        assert cluster_resources(address) is None  # no token in this process: refused
        resources = _resources_with(head.auth_env(), address)
        assert resources is not None and resources["CPU"] == 1
        assert LocalRayHead(tmp_path, num_cpus=1).ensure() == address  # an API restart
        assert head.stop() > 0
        assert not gcs_reachable(address)
        assert head.recorded_address() is None
    finally:
        kill_ray_head(port)  # in case an assertion above failed before stop()


def _resources_with(env: dict[str, str], address: str) -> dict | None:
    """``cluster_resources`` asked from a process that has ``env`` (Ray reads the token
    settings once per process, so this one must not be changed)."""
    code = ("import json, sys; from dynas_service.jobs.ray_cluster import cluster_resources; "
            "print(json.dumps(cluster_resources(sys.argv[1])))")
    done = subprocess.run([sys.executable, "-c", code, address], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
