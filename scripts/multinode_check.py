#!/usr/bin/env python
"""Multi-node check on one machine, without Docker: the image's commands as local processes.

Starts, through the image's entrypoint (``deploy/docker/entrypoint.sh``):

1. ``ray-head``   a Ray head with 1 CPU,
2. ``ray-worker`` a second Ray node with 1 CPU joining it,
3. ``api``        the REST API, which joins the cluster as a 0-CPU node and serves on a
                  free port with ``DYNAS_RAY_ADDRESS`` pointing at the head,

then submits a short job with two concurrent 1-CPU trials and checks, in the GCS actor
table, that the job's trial actors ran on both the head and the worker node
(``--nodes-only``: stop once the three nodes and the API are up). Prints one
JSON line with the findings; exit status 0 only if the trials landed on both nodes.

Every process gets its own ports, Ray temp dirs under a fresh ``/tmp/dmn-*`` folder, a
private Ray auth token and an environment marker; cleanup signals only the processes that
carry this run's marker (never ``ray stop``, which would stop every Ray on the machine).

    python scripts/multinode_check.py [--timeout 150] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPO / "deploy" / "docker" / "entrypoint.sh"
MARKER = "DYNAS_MULTINODE_CHECK"
FINAL = {"finished", "stopped", "failed", "interrupted"}


class CheckError(RuntimeError):
    """A step of the check failed; the message says which and why."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(what: str, predicate: Any, deadline: float, interval: float = 0.5) -> Any:
    """Poll ``predicate()`` until it returns a truthy value; CheckError after ``deadline``."""
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise CheckError(f"timed out waiting for {what}")


class Cluster:
    """The processes of one check run, all tagged with ``MARKER=<run id>``."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.run_id = secrets.token_hex(8)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.head_port = free_port()
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            MARKER: self.run_id,
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_NODE_IP_ADDRESS": "127.0.0.1",
            "OMP_NUM_THREADS": "1",
        }
        for name in ("RAY_ADDRESS", "DYNAS_RAY_ADDRESS", "DYNAS_ENTRYPOINT_DRY_RUN"):
            self.env.pop(name, None)

    def node_env(self, name: str, **extra: str) -> dict[str, str]:
        """Environment of one node: own temp dir, role file and agent/metrics ports."""
        folder = self.base / name
        folder.mkdir(parents=True, exist_ok=True)
        agent, metrics = free_port(), free_port()
        return {
            **self.env,
            "DYNAS_RUN_DIR": str(folder),
            "RAY_TEMP_DIR": str(folder),
            "RAY_START_ARGS": f"--dashboard-agent-listen-port={agent} "
            f"--metrics-export-port={metrics}",
            **extra,
        }

    def start(self, name: str, mode: str, env: dict[str, str]) -> None:
        """Run ``entrypoint.sh <mode>`` in a new session, logging to ``<base>/<name>.log``."""
        log = (self.base / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            ["bash", str(ENTRYPOINT), mode], env=env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def alive(self, name: str) -> bool:
        """Whether the named entrypoint process still runs (CheckError with its log if not)."""
        code = self.procs[name].poll()
        if code is not None:
            raise CheckError(f"{name} exited with {code}:\n{self.log_tail(name)}")
        return True

    def log_tail(self, name: str, chars: int = 3000) -> str:
        """The end of a process's log."""
        try:
            return (self.base / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def marked_pids(self) -> list[int]:
        """Pids of every process (any depth, any session) carrying this run's marker."""
        needle = f"{MARKER}={self.run_id}".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    def stop(self, grace: float = 15.0) -> list[int]:
        """SIGTERM the API, then the nodes; SIGKILL what is left. Returns leftover pids."""
        for name in ("api", "worker", "head"):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self.marked_pids():
            time.sleep(0.5)
        for pid in self.marked_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        time.sleep(0.5)
        return self.marked_pids()


def http(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    """One JSON request; returns the decoded body (HTTPError for non-2xx)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def healthy(url: str) -> bool:
    """Whether GET ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def cluster_nodes(address: str) -> list[dict[str, Any]]:
    """Alive nodes of the cluster as ``{"node_id", "cpus", "head"}`` (no driver needed)."""
    from ray._raylet import GcsClient

    nodes = []
    for node_id, info in GcsClient(address=address).get_all_node_info(timeout=5).items():
        if info.state != 0:  # 0 = ALIVE
            continue
        resources = dict(info.resources_total)
        nodes.append({
            "node_id": node_id.hex(),
            "cpus": float(resources.get("CPU", 0.0)),
            "head": "node:__internal_head__" in resources,
        })
    return nodes


def nodes_if_at_least(address: str, count: int) -> list[dict[str, Any]] | None:
    """The alive nodes once there are at least ``count`` of them, else None."""
    nodes = cluster_nodes(address)
    return nodes if len(nodes) >= count else None


def trial_actor_nodes(address: str) -> dict[str, Any]:
    """Per-node counts of the most numerous actor class (the job's trial actors).

    Read from the GCS actor table, which keeps finished actors, through a short-lived
    driver. Internal actors of Ray Tune are few; each trial (or reused trial actor) is one.
    """
    import ray
    from ray._private import state

    ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    try:
        actors = list(state.actors().values())
    finally:
        ray.shutdown()
    by_class = Counter(actor["ActorClassName"] for actor in actors)
    if not by_class:
        return {"class": None, "per_node": {}, "classes": {}}
    trial_class = by_class.most_common(1)[0][0]
    per_node = Counter(
        actor["Address"]["NodeID"] for actor in actors if actor["ActorClassName"] == trial_class
    )
    return {"class": trial_class, "per_node": dict(per_node), "classes": dict(by_class)}


def job_spec() -> dict[str, Any]:
    """A short job: small MLPs on digits, two 1-CPU trials at a time."""
    return {
        "name": "multinode-check",
        "dataset": "digits",
        "sample": 0.5,
        "model": {"family": "mlp", "hidden_layers": 2, "initial_units": 16},
        "algorithm": "random",
        "budget": {"seconds": 20, "trials": 4},
        "resources": {"cpus_per_trial": 1, "gpus_per_trial": 0, "max_concurrent_trials": 2},
        "seed": 0,
    }


def run_check(cluster: Cluster, deadline: float, nodes_only: bool = False) -> dict[str, Any]:
    """Start the three processes, run one job (unless ``nodes_only``), return the findings."""
    address = f"127.0.0.1:{cluster.head_port}"
    cluster.start("head", "ray-head", cluster.node_env(
        "head", RAY_PORT=str(cluster.head_port), RAY_NUM_CPUS="1",
        RAY_INCLUDE_DASHBOARD="false", RAY_DASHBOARD_PORT=str(free_port()),
    ))
    wait_for("the head's GCS port",
             lambda: cluster.alive("head") and port_open(cluster.head_port), deadline)
    cluster.start("worker", "ray-worker", cluster.node_env(
        "worker", RAY_HEAD_ADDRESS=address, RAY_NUM_CPUS="1",
    ))
    wait_for("two Ray nodes",
             lambda: cluster.alive("worker") and nodes_if_at_least(address, 2), deadline)

    api_port, token = free_port(), secrets.token_hex(16)
    data_dir = cluster.base / "data"
    cluster.start("api", "api", cluster.node_env(
        "api", DYNAS_RAY_ADDRESS=address, DYNAS_HOST="127.0.0.1", DYNAS_PORT=str(api_port),
        DYNAS_DATA_DIR=str(data_dir), DYNAS_STORAGE_URI=str(cluster.base / "shared-storage"),
        DYNAS_MLFLOW_TRACKING_URI="", DYNAS_API_TOKEN=token,
    ))
    base_url = f"http://127.0.0.1:{api_port}"
    wait_for("the API's /healthz",
             lambda: cluster.alive("api") and healthy(base_url + "/healthz"), deadline)
    nodes = wait_for("the API's Ray node", lambda: nodes_if_at_least(address, 3), deadline)
    if nodes_only:
        return {"ok": sum(node["cpus"] > 0 for node in nodes) == 2, "nodes": nodes}

    job = http("POST", base_url + "/jobs", token, job_spec())
    job_url = f"{base_url}/jobs/{job['id']}"

    def final_job() -> dict[str, Any] | None:
        current = http("GET", job_url, token)
        return current if current["status"] in FINAL else None

    job = wait_for("the job to end", final_job, deadline, interval=1.0)
    actors = trial_actor_nodes(address)
    trial_nodes = {node for node, count in actors["per_node"].items() if count > 0}
    cpu_nodes = {node["node_id"] for node in nodes if node["cpus"] > 0}
    return {
        "ok": job["status"] == "finished" and len(trial_nodes & cpu_nodes) >= 2,
        "job_status": job["status"],
        "job_error": job.get("error"),
        "trials": job.get("trials"),
        "best": (job.get("best") or {}).get("value"),
        "nodes": nodes,
        # Whether Ray Tune wrote into DYNAS_STORAGE_URI (else it used the job folder).
        "storage_uri_used": any((cluster.base / "shared-storage").glob("*")),
        "trial_actor_class": actors["class"],
        "trial_actors_per_node": actors["per_node"],
        "actor_classes": actors["classes"],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the check; print one JSON line; exit 0 if the trials used both nodes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds for everything")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and logs")
    parser.add_argument("--nodes-only", action="store_true",
                        help="stop after the three nodes and the API are up (no job)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="dmn-", dir="/tmp"))  # short: Ray socket paths
    cluster = Cluster(base)
    # This process reads the cluster too (GCS client, a short-lived driver): same token.
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED"):
        os.environ[name] = cluster.env[name]
    os.environ.pop("RAY_ADDRESS", None)
    result: dict[str, Any]
    try:
        result = run_check(cluster, started + args.timeout, nodes_only=args.nodes_only)
    except (CheckError, urllib.error.URLError, OSError, KeyError) as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        result["logs"] = {name: cluster.log_tail(name) for name in cluster.procs}
    finally:
        leftovers = cluster.stop()
    result["leftover_pids"] = leftovers
    result["seconds"] = round(time.monotonic() - started, 1)
    result["workdir"] = str(base)
    if not args.keep and result["ok"]:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(result))
    return 0 if result["ok"] and not leftovers else 1


if __name__ == "__main__":
    sys.exit(main())
