"""Run a small random search on a two-node Ray cluster on this machine (own process).

Usage: python -m tests.engine.two_node_job <job_dir> <data_dir>; prints one JSON line with
the status and the Ray node ids that trained trials (read from the checkpoints).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(job_dir: Path, data_dir: Path) -> None:
    import ray
    from ray.cluster_utils import Cluster

    from dynas_service.engine import ModelOptions, SearchRequest, run_search
    from dynas_service.events import NullObserver
    from dynas_service.search import SearchSpace

    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        request = SearchRequest(
            job_id="two-nodes", algorithm="random", space=SearchSpace.default(True, 1),
            dataset="digits", data_dir=data_dir, model=ModelOptions("mlp", 1, 8),
            algorithm_options={"max_epochs": 2}, sample=0.17, budget_trials=4,
            budget_seconds=200.0, storage_uri=str(job_dir / "shared-storage"))
        status = run_search(request, job_dir, NullObserver())
        nodes = {json.loads(p.read_text())["node_id"]
                 for p in (job_dir / "shared-storage").glob("run-*/*/checkpoint_*/engine.json")}
        print(json.dumps({"status": status, "nodes": sorted(nodes),
                          "cluster_nodes": len(ray.nodes())}))
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
