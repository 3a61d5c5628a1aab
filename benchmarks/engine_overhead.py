"""Ray Tune overhead of the engine (issue 8): generations, per-result cost, memory.

    python -m benchmarks.engine_overhead [--quick]

1. Generation overhead of the evolution (population 10, digits, mlp): wall time of each
   generation / ideal, ideal = sum of that generation's epoch seconds / workers; reported
   for 1, 5 and 10 epochs per generation (``--epochs-per-generation``). Anchor in the
   same run: Ray's own PopulationBasedTraining(synch=True) on the same trainable, 10
   trials, ratio = wall time from first to last result / (sum of epoch seconds /
   workers), also given for ours.
2. Per-result overhead: our trainable (checkpoint + report + driver callback) minus its
   epoch seconds, vs a bare Tune function trainable reporting a number.
3. Memory: RSS of the driver and of each trial worker (from /proc, Linux).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

WORKERS = 2


class _Times:
    """Observer recording (time, epoch seconds, pid-less) per epoch."""

    def __init__(self) -> None:
        self.epochs: list[tuple[float, float]] = []

    def on_individual_start(self, info: Any) -> None: ...

    def on_epoch(self, record: Any) -> None:
        self.epochs.append((time.monotonic(), record.epoch_seconds))

    def on_best(self, best: Any) -> None: ...

    def on_finish(self, status: str, error: str | None) -> None: ...


def _request(root: Path, algorithm: str, options: dict, seconds: float) -> Any:
    from dynas_service.engine import ModelOptions, SearchRequest
    from dynas_service.search import SearchSpace

    return SearchRequest(job_id="bench", algorithm=algorithm, space=SearchSpace.default(True, 2),
                         dataset="digits", data_dir=root / "data",
                         model=ModelOptions("mlp", 2, 20), algorithm_options=options,
                         budget_seconds=seconds, seed=0)


def _ratio(epochs: list[tuple[float, float]], start: float, end: float) -> float:
    work = sum(s for t, s in epochs if start < t <= end)
    return (end - start) / (work / WORKERS) if work else float("nan")


def evolution(root: Path, epochs_per_generation: int, seconds: float) -> dict[str, Any]:
    """Our scheduler; ratios per generation (the first, with actor start-up, skipped)."""
    from dynas_service.engine.best import BestWriter
    from dynas_service.engine.callback import EngineCallback, JobClock
    from dynas_service.engine.layout import JobLayout
    from dynas_service.engine.plans import build_plan
    from dynas_service.engine.run import _fit, load_training_data
    from dynas_service.engine.stopper import JobStopper

    job = root / f"evo-{epochs_per_generation}"
    request = _request(root, "evolution", {"population": 10,
                                            "epochs_per_generation": epochs_per_generation},
                       seconds)
    layout = JobLayout(job)
    plan = build_plan(request, layout, WORKERS, str(layout.ray_dir), resume=False)
    marks: list[float] = []
    assert plan.coordinator is not None
    plan.coordinator.on_generation = lambda _: marks.append(time.monotonic())
    times = _Times()
    callback = EngineCallback(times, BestWriter(job), JobClock())
    _fit(request, plan, load_training_data(request), str(layout.ray_dir), callback,
         JobStopper(str(layout.stop_file), time.time() + seconds))
    ratios = [_ratio(times.epochs, a, b) for a, b in itertools.pairwise(marks)]
    return {"generations": len(marks), "ratios": ratios,
            "median_ratio": statistics.median(ratios) if ratios else float("nan"),
            "overall": _ratio(times.epochs, marks[0], marks[-1]) if len(marks) > 1 else None,
            "evolve_ms": 1000 * statistics.median(plan.coordinator.evolve_seconds or [0.0]),
            "generation_s": statistics.median([b - a for a, b in itertools.pairwise(marks)]
                                              or [0])}


def pbt(root: Path, interval: int, seconds: float) -> dict[str, Any]:
    """Ray's PopulationBasedTraining(synch=True) on our trainable, 10 trials."""
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining

    from dynas_service.engine.run import load_training_data
    from dynas_service.engine.stopper import JobStopper
    from dynas_service.engine.trainable import train_individual

    times: list[tuple[float, float]] = []

    class Record(tune.Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):  # type: ignore[no-untyped-def]
            times.append((time.monotonic(), float(result["epoch_seconds"])))

    request = _request(root, "random", {}, seconds)
    data = load_training_data(request)
    hp = {"learning_rate": 4e-4, "batch_size": 32, "reg_strength": 1e-3}
    configs = [{"individual_id": f"pbt-{i}", "hyperparameters": dict(hp), "seed": i,
                "adopt_checkpoint": True, "cpus": 1} for i in range(10)]
    scheduler = PopulationBasedTraining(
        time_attr="training_iteration", metric="value", mode="max", synch=True,
        perturbation_interval=interval,
        hyperparam_mutations={"hyperparameters": {"learning_rate": tune.uniform(1e-4, 6e-4)}})
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(train_individual, data=data), {"cpu": 1}),
        param_space={"individual_id": tune.grid_search([c["individual_id"] for c in configs]),
                     "hyperparameters": hp, "seed": 0, "adopt_checkpoint": True, "cpus": 1},
        tune_config=tune.TuneConfig(scheduler=scheduler, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(root / "pbt"), verbose=0,
                                  stop=JobStopper(str(root / "nostop"), time.time() + seconds),
                                  callbacks=[Record()],
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=4)),
    )
    tuner.fit()
    skip = len(times) // 5  # actor start-up
    return {"results": len(times),
            "overall": _ratio(times[skip:], times[skip][0], times[-1][0]) if times else None}


def per_result(root: Path, n: int) -> dict[str, float]:
    """Seconds per result beyond training: our trainable vs a bare function trainable."""
    from ray import tune

    def bare(config: dict) -> None:
        for i in range(n):
            tune.report({"i": i})

    stamps: list[float] = []

    class Stamp(tune.Callback):
        def on_trial_result(self, iteration, trials, trial, result, **info):  # type: ignore[no-untyped-def]
            stamps.append(time.monotonic())

    tune.Tuner(bare, tune_config=tune.TuneConfig(num_samples=1),
               run_config=tune.RunConfig(storage_path=str(root / "bare"), verbose=0,
                                         callbacks=[Stamp()])).fit()
    bare_s = statistics.median(b - a for a, b in itertools.pairwise(stamps))

    from dynas_service.engine import run_search

    times = _Times()
    request = _request(root, "random", {"max_epochs": n, "patience": 10 * n}, 600)
    request = type(request)(**{**request.__dict__, "budget_trials": 1})
    run_search(request, root / "ours", times)
    gaps = [b[0] - a[0] - b[1] for a, b in itertools.pairwise(times.epochs)]
    return {"bare_ms": 1000 * bare_s, "ours_ms": 1000 * statistics.median(gaps),
            "epoch_ms": 1000 * statistics.median(s for _, s in times.epochs)}


def memory(root: Path) -> dict[str, float]:
    """RSS in MB of this driver and of the trial workers that wrote checkpoints."""
    import json

    def rss(pid: int) -> float:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    pids = {json.loads(p.read_text())["pid"] for p in root.glob("**/checkpoint_*/engine.json")}
    workers = [m for m in (rss(p) for p in pids) if m == m]
    return {"driver_mb": rss(os.getpid()),
            "worker_mb": statistics.median(workers) if workers else float("nan"),
            "workers_alive": len(workers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 4 minutes)")
    parser.add_argument("--epochs-per-generation", type=int, nargs="+", default=[1, 5, 10],
                        metavar="K", help="evolution configurations to time (default 1 5 10)")
    args = parser.parse_args()
    seconds = 60.0 if args.quick else 150.0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import ray

    ray.init(address="local", num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        out: dict[str, Any] = {}
        for k in args.epochs_per_generation:
            out[f"evolution_epochs{k}"] = evolution(root, k, seconds)
        out["pbt_synch_interval1"] = pbt(root, 1, seconds)
        out["per_result"] = per_result(root, 30 if args.quick else 100)
        out["memory"] = memory(root)
    for key, value in out.items():
        print(key, value)


if __name__ == "__main__":
    main()
