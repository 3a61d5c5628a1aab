"""A runner's Ray job gets warm workers: prestarted, torch and the trainable imported.

``dynas_service.engine.warm_workers`` uses Ray's private raylet RPC for the prestart; this
test is the alarm for a Ray upgrade that moves it (see that module's docstring).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dynas_service.engine import warm_workers

pytestmark = pytest.mark.ray


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_tune_trial_lands_on_a_prestarted_warm_worker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.engine.warm_workers_job", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env,
        cwd=Path(__file__).resolve().parents[2])
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    report = json.loads(lines[-1])
    assert report["seen_warm"] == 2 and report["waited_s"] < 80, report  # 2 CPUs: 2 workers
    assert len(report["idle_before"]) >= 2, report  # only the prestart can have made them
    assert report["pid"] in report["idle_before"], report
    assert report["warm"], report


def test_the_setup_hook_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dynas_service.engine.trainable", None)  # import fails
    warm_workers.setup_worker()


def test_the_trial_runtime_env_is_the_job_env_merged_with_tunes_as_ray_dumps_it() -> None:
    job = json.dumps({"worker_process_setup_hook": "m.f",
                      "env_vars": {"B": "job", "PL_DISABLE_FORK": "0"}})
    merged = warm_workers.trial_runtime_env(job)
    assert merged == ('{"env_vars":{"B":"job","PL_DISABLE_FORK":"1"},'
                      '"worker_process_setup_hook":"m.f"}')
    assert json.loads(warm_workers.trial_runtime_env(""))["env_vars"]["PL_DISABLE_FORK"] == "1"


def test_prestart_spreads_at_most_total_workers_one_per_cpu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import ray

    sent: list[tuple[str, int]] = []
    nodes = [{"Alive": True, "Resources": {"CPU": 4.0}, "NodeManagerAddress": "a",
              "NodeManagerPort": 1},
             {"Alive": False, "Resources": {"CPU": 8.0}, "NodeManagerAddress": "dead",
              "NodeManagerPort": 2},
             {"Alive": True, "Resources": {"CPU": 4.0}, "NodeManagerAddress": "b",
              "NodeManagerPort": 3},
             {"Alive": True, "Resources": {"CPU": 4.0}, "NodeManagerAddress": "c",
              "NodeManagerPort": 4}]
    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    monkeypatch.setattr(ray, "nodes", lambda: nodes)
    monkeypatch.setattr(warm_workers, "_request",
                        lambda keep_alive_s: types.SimpleNamespace(num_workers=0))
    monkeypatch.setattr(warm_workers, "_send",
                        lambda address, request: sent.append((address, request.num_workers)))
    assert warm_workers.prestart(6) == 6
    assert sent == [("a:1", 4), ("b:3", 2)]
    sent.clear()
    assert warm_workers.prestart() == 12  # default: one per CPU of every alive node
    assert sent == [("a:1", 4), ("b:3", 4), ("c:4", 4)]
