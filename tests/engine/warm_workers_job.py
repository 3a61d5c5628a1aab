"""Join a running Ray cluster the way a runner does and report whether a Tune trial lands
on a warm, prestarted worker (own process: the cluster needs its own Ray).

Usage: python -m tests.engine.warm_workers_job <storage dir>; prints one JSON line. The
head is started with Ray's own first-driver prestart off, so an idle worker of the job can
only come from :func:`dynas_service.engine.warm_workers.warm`.
"""

from __future__ import annotations

import json
import os
import sys
import time


def descendants(root: int) -> set[int]:
    """Pids of ``root``'s descendant processes (Linux ``/proc``)."""
    parent: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as stat:
                    parent[int(name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier} - found
        found |= frontier
    return found


def idle_workers() -> set[int]:
    """Descendant Ray workers that are up and idle (Ray titles them ``ray::IDLE``)."""
    idle = set()
    for pid in descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if cmdline.read().startswith(b"ray::IDLE"):
                    idle.add(pid)
        except OSError:
            continue
    return idle


def main() -> None:
    import ray
    from ray.cluster_utils import Cluster

    from dynas_service.engine import warm_workers
    from dynas_service.engine.run import ensure_ray

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "include_dashboard": False,
        "_system_config": {"prestart_worker_first_driver": False}})
    os.environ["RAY_ADDRESS"] = cluster.address
    try:
        ensure_ray()
        started = time.monotonic()
        seen_warm = warm_workers.warm(2, timeout_s=90)
        waited = time.monotonic() - started
        idle = idle_workers()

        from ray import tune

        def probe(config: dict) -> None:
            tune.report({"pid": os.getpid(), "warm": all(
                name in sys.modules
                for name in ("torch._dynamo", "dynas_service.engine.trainable"))})

        tuner = tune.Tuner(probe, run_config=tune.RunConfig(
            storage_path=sys.argv[1], name="probe", verbose=0))
        info = tuner.fit().get_best_result(metric="pid", mode="max").metrics
        info = {"pid": info["pid"], "warm": info["warm"]}
        print(json.dumps({"seen_warm": seen_warm, "waited_s": waited,
                          "idle_before": sorted(idle), **info}), flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main()
