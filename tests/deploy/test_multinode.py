"""Two Ray nodes + the API on one machine, started through the image's entrypoint.

Runs scripts/multinode_check.py (about 1.5 minutes on 2 idle cores; up to 3 when the
machine is busy): a job's concurrent trials must land on both the head and the worker
node. The check uses its own ports, Ray temp dirs and auth token, and stops only the
processes it started.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from tests.deploy._util import REPO

pytestmark = [pytest.mark.ray, pytest.mark.server, pytest.mark.timeout(300)]

SCRIPT = REPO / "scripts" / "multinode_check.py"


def has_engine() -> bool:
    """Whether this checkout's engine can run searches (built in parallel with this test)."""
    return hasattr(importlib.import_module("dynas_service.engine"), "run_search")


def run_check(*args: str) -> tuple[dict, subprocess.CompletedProcess[str]]:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=260, cwd=REPO)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result line; stdout={done.stdout[-2000:]} stderr={done.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert result["leftover_pids"] == [], "the check left processes running"
    assert "error" not in result, json.dumps(result, indent=1)[-6000:]
    return result, done


def test_trials_of_one_job_land_on_both_nodes() -> None:
    if not has_engine():
        # Still exercise the image's three entrypoint modes for real: the nodes and the API.
        result, done = run_check("--nodes-only", "--timeout", "150")
        assert sorted(node["cpus"] for node in result["nodes"]) == [0.0, 1.0, 1.0]
        assert done.returncode == 0
        pytest.skip("dynas_service.engine.run_search is not built yet: nodes checked, no job")
    result, done = run_check("--timeout", "220")
    assert result["job_status"] == "finished", result
    cpu_nodes = {node["node_id"] for node in result["nodes"] if node["cpus"] > 0}
    assert len(cpu_nodes) == 2 and len(result["nodes"]) == 3  # head, worker, the API's node
    used = {node for node, count in result["trial_actors_per_node"].items() if count > 0}
    assert cpu_nodes <= used, result
    assert result["ok"] is True and done.returncode == 0
