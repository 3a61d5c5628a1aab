"""Two Ray nodes on one machine share the storage and both train trials.

Runs in a subprocess: the cluster needs its own Ray, not the session's ``ray_local``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray


def test_trials_run_on_both_nodes_with_shared_storage(tmp_path: Path, data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.engine.two_node_job", str(tmp_path), str(data_dir)],
        capture_output=True, text=True, timeout=280, env=env,
        cwd=Path(__file__).resolve().parents[2])
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    report = json.loads(lines[-1])
    assert report["status"] == "finished" and report["cluster_nodes"] == 2
    assert len(report["nodes"]) == 2, report
    assert (tmp_path / "best" / "current.json").is_file()
