"""GET /jobs/{id}/best latency under load, and time from POST /jobs to the first best.

    python -m benchmarks.api_latency [--clients 50] [--seconds 15] [--budget 60]

Starts a real uvicorn server (own data dir, MLflow sqlite store) with its embedded Ray head
(2 CPUs; trials at the default niceness 10; killed afterwards), submits an evolution job
on digits and measures, side by side:

1. the time from ``POST /jobs`` to the first ``200`` of ``GET /jobs/{id}/best`` (warm
   service: server, Ray and a standby runner already up), for the first job and for
   ``--first-best-jobs`` more submitted one after the other;
2. ``GET /jobs/{id}/best`` latency (p50/p99/max, errors) with ``--clients`` concurrent
   clients while the job trains on every core, and the same with the service idle.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import LiveServer, kill_ray_head, stop_runners

JOB = {
    "dataset": "digits",
    "algorithm": "evolution",
    "resources": {"cpus_per_trial": 1},
}


async def hammer(url: str, clients: int, seconds: float, interval: float = 0.0) -> dict[str, Any]:
    """``clients`` concurrent keep-alive connections GETting ``url``, each waiting
    ``interval`` seconds between its requests (0: back to back, i.e. saturation).

    Uses aiohttp (installed with Ray): httpx's async client costs several ms of client
    CPU per request on these 2 cores and would measure itself, not the server.
    """
    import aiohttp

    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        end = time.perf_counter() + seconds

        async def one(offset: float) -> None:
            nonlocal errors
            await asyncio.sleep(offset)  # pollers are not in lockstep
            while time.perf_counter() < end:
                start = time.perf_counter()
                try:
                    async with session.get(url) as response:
                        await response.read()
                        ok = response.status == 200
                except aiohttp.ClientError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok
                if interval:
                    await asyncio.sleep(interval)

        offsets = [interval * i / clients for i in range(clients)]
        await asyncio.gather(*(one(offset) for offset in offsets))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 2),
        "max_ms": round(1000 * latencies[-1], 2),
    }


BEST_ROUTE = 'route="/jobs/{job_id}/best",status="200"'


def server_buckets(client: httpx.Client) -> dict[float, float]:
    """Cumulative counts of the server-side latency histogram of GET /jobs/{id}/best."""
    buckets: dict[float, float] = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("dynas_request_latency_seconds_bucket") and BEST_ROUTE in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return buckets


def server_quantiles(before: dict[float, float], after: dict[float, float]) -> dict[str, Any]:
    """p50/p99 upper bounds (bucket edges, ms) of the requests between two snapshots."""
    counts = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = counts.get(float("inf"), 0.0)

    def edge(q: float) -> float | str:
        for le, cumulative in counts.items():
            if cumulative >= q * total:
                return "inf" if le == float("inf") else round(1000 * le, 2)
        return "inf"

    return {"requests": int(total), "p50_ms_at_most": edge(0.5), "p99_ms_at_most": edge(0.99)}


def timed_phase(
    client: httpx.Client, url: str, clients: int, seconds: float, interval: float
) -> dict[str, Any]:
    """Client-observed latencies plus the server's own histogram for the same requests."""
    before = server_buckets(client)
    observed = asyncio.run(hammer(url, clients, seconds, interval))
    observed["server_side"] = server_quantiles(before, server_buckets(client))
    return observed


def first_best(client: httpx.Client, budget: float) -> tuple[str, float]:
    """Submit the job; returns its id and seconds from POST to the first best."""
    start = time.perf_counter()
    job_id = client.post("/jobs", json={**JOB, "budget": {"seconds": budget}}).raise_for_status()
    job_id = job_id.json()["id"]
    while client.get(f"/jobs/{job_id}/best").status_code != 200:
        if time.perf_counter() - start > 120:
            raise RuntimeError(f"no best after 120 s: {client.get(f'/jobs/{job_id}').json()}")
        time.sleep(0.05)
    return job_id, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--budget", type=float, default=90)
    parser.add_argument(
        "--first-best-jobs",
        type=int,
        default=3,
        help="jobs submitted one after the other (each on a warm service, stopped after its "
        "first best) to measure POST -> first best again",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.1,
        help="seconds each polling client waits between requests",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = {
            **os.environ,
            "DYNAS_DATA_DIR": str(data_dir),
            "DYNAS_RAY_NUM_CPUS": "2",
            "DYNAS_MLFLOW_TRACKING_URI": f"sqlite:///{Path(tmp) / 'mlflow.db'}",
        }
        for name in ("RAY_ADDRESS", "DYNAS_RAY_ADDRESS"):  # the embedded head, as deployed
            env.pop(name, None)
        server = LiveServer(env=env, log=Path(tmp) / "server.log")
        server.start()
        try:
            result = measure(server, args)
        finally:
            server.stop()
            from dynas_service.settings import Settings

            stop_runners(Settings(data_dir=data_dir))
            address_file = data_dir / "ray-address"
            if address_file.exists():
                kill_ray_head(int(address_file.read_text().strip().rsplit(":", 1)[1]))
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} vCPU, no GPU"
    result["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=2))


def wait_warm(client: httpx.Client, timeout: float = 180) -> float:
    """Wait until Ray answers and the standby runner is warm; returns the seconds waited."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        health = client.get("/healthz").json()
        if health["ray"]["status"] == "ok" and health["runners"]["standby"] in ("ready", "off"):
            return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError(f"the service did not get warm in {timeout} s: {health}")


def first_best_then_stop(client: httpx.Client, budget: float) -> float:
    """On a warm service: POST -> first best of a new job, which is then stopped."""
    wait_warm(client)
    job_id, seconds = first_best(client, budget)
    client.post(f"/jobs/{job_id}/stop")
    while client.get(f"/jobs/{job_id}").json()["status"] not in ("stopped", "finished", "failed"):
        time.sleep(0.2)
    return round(seconds, 2)


def measure(server: LiveServer, args: argparse.Namespace) -> dict[str, Any]:
    client = httpx.Client(base_url=server.url, timeout=30)
    warm_after = wait_warm(client)
    job_id, to_first_best = first_best(client, args.budget)
    url = f"{server.url}/jobs/{job_id}/best"
    polling = timed_phase(client, url, args.clients, args.seconds, args.interval)
    training = timed_phase(client, url, args.clients, args.seconds, 0.0)
    status = client.get(f"/jobs/{job_id}").json()
    still_training = status["status"] == "running"
    client.post(f"/jobs/{job_id}/stop")
    while client.get(f"/jobs/{job_id}").json()["status"] not in ("stopped", "finished", "failed"):
        time.sleep(0.5)
    idle_polling = timed_phase(client, url, args.clients, args.seconds / 2, args.interval)
    idle = timed_phase(client, url, args.clients, args.seconds / 2, 0.0)
    again = [first_best_then_stop(client, args.budget) for _ in range(args.first_best_jobs)]
    return {
        "command": " ".join(
            [sys.executable.rsplit("/", 1)[-1], "-m", "benchmarks.api_latency", *sys.argv[1:]]
        ),
        "service_warm_after_s": round(warm_after, 2),
        "post_to_first_best_s": round(to_first_best, 2),
        "post_to_first_best_next_jobs_s": again,
        "clients": args.clients,
        "poll_interval_s": args.interval,
        "polling_while_training": polling,
        "saturation_while_training": training,
        "job_was_training_throughout": still_training,
        "epochs_trained": status["epochs_trained"],
        "polling_idle": idle_polling,
        "saturation_idle": idle,
        "polling_p99_ratio_training_over_idle": round(
            polling["p99_ms"] / idle_polling["p99_ms"], 2
        ),
    }


if __name__ == "__main__":
    main()
