"""Runs every (dataset, seed, method) of a :class:`BenchConfig` one after another.

One Ray per process (``ray.init(num_cpus=cpus)``), started before the first run and not
counted in any run's time. Each run's :class:`RunRecord` is written to
``<out>/runs/<dataset>/<method>/seed<k>.json`` as soon as it ends; with ``skip_existing``
runs whose file exists are not repeated, so an interrupted benchmark can be continued and
separately run method groups can share one output folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import traceback
from pathlib import Path

from benchmarks.anytime.config import BenchConfig
from benchmarks.anytime.datasets import BenchDataset, prepare_dataset
from benchmarks.anytime.machine import load_average
from benchmarks.anytime.methods import METHODS, RunContext
from benchmarks.anytime.records import EpochLog, RunRecord
from benchmarks.anytime.warmup import warm_up

_log = logging.getLogger(__name__)


def run_path(out_dir: Path, dataset: str, method: str, seed: int) -> Path:
    return out_dir / "runs" / dataset / method / f"seed{seed}.json"


def ensure_ray(cpus: int) -> None:
    """Start the process' one local Ray with ``cpus`` CPUs (no-op if already running).

    Ray detects GPUs itself, so ``--gpus-per-trial`` (fractions too) works on GPU machines.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # The dynas engine turns Tune's per-result JSON/CSV/TensorBoard loggers off for the
    # whole process; set it up front so every Tune-based method runs the same way,
    # whatever order they run in.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    # Ray workers must import `benchmarks.anytime` (the trainables) like the driver does.
    root = str(Path(__file__).resolve().parents[2])
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [root, *paths] if p)
    import ray

    from dynas_service.engine import warm_workers

    if not ray.is_initialized():
        ray.init(
            address="local",
            num_cpus=cpus,
            include_dashboard=False,
            log_to_driver=False,
            # Workers import torch and the trainables as they start, like the service's;
            # warm ones are prestarted before each run (``run_one``), not by Ray itself.
            runtime_env=warm_workers.runtime_env(),
            _system_config={"prestart_worker_first_driver": False},
        )  # "local": a private instance, never a cluster another process started


def rotated(methods: tuple[str, ...], k: int) -> list[str]:
    """``methods`` rotated by ``k``: each seed runs them in another order, so a method
    does not always run right after the same neighbour or at the same point of a drift
    in the machine's background load."""
    k %= max(len(methods), 1)
    return [*methods[k:], *methods[:k]]


def run_one(data: BenchDataset, method: str, seed: int, config: BenchConfig) -> RunRecord:
    """Run ``method`` once; a failure is recorded in the record, never raised."""
    spec = METHODS[method]
    work_dir = config.out_dir / "work" / data.key / method / f"seed{seed}"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    record = RunRecord(
        method,
        spec.framework,
        data.key,
        seed,
        config.budget_s,
        config.cpus,
        data.metric_name,
        data.classification,
    )
    log = EpochLog()
    warm = 0
    if spec.framework in ("dynas", "ray-tune"):
        # Every Tune-based run (dynas and stock Tune alike) starts on warm trial workers,
        # as a job of the service does; prestarted outside the method's clock.
        from dynas_service.engine import warm_workers

        warm = warm_workers.warm(config.cpus)
    load_start = load_average()
    start = time.monotonic()
    try:
        info = spec.load()(RunContext(data, seed, config, work_dir), log)
        record.n_trials, record.extra = info.n_trials, info.extra
    except Exception:  # one broken method must not lose the others' results
        record.error = traceback.format_exc(limit=8)
        _log.error("%s on %s seed %d failed:\n%s", method, data.key, seed, record.error)
    record.wall_s = log.elapsed()  # from the method's own clock start (log.start())
    record.extra["setup_s"] = round(time.monotonic() - start - record.wall_s, 3)
    record.extra["warm_workers"] = warm
    record.extra["load_average"] = [load_start, load_average()]  # other processes' load
    record.epochs = log.points()
    shutil.rmtree(work_dir, ignore_errors=True)  # checkpoints are large and not needed
    return record


def run_benchmark(config: BenchConfig, *, skip_existing: bool = True) -> list[Path]:
    """Run everything ``config`` names; returns the run files (new and reused)."""
    frameworks = {METHODS[m].framework for m in config.methods}
    if frameworks & {"dynas", "ray-tune"}:
        ensure_ray(config.cpus)
    warm_up(frameworks, config)
    paths: list[Path] = []
    for key in config.datasets:
        data = prepare_dataset(key, config.data_dir, puzzle8_sample=config.puzzle8_sample)
        for k, seed in enumerate(config.seeds):
            for method in rotated(config.methods, k):
                path = run_path(config.out_dir, key, method, seed)
                paths.append(path)
                if skip_existing and path.is_file():
                    continue
                _log.info("running %s on %s, seed %d (%.0f s)", method, key, seed, config.budget_s)
                record = run_one(data, method, seed, config)
                record.save(path)
                _log.info(
                    "  %s: best %s after %d epochs, %d trials, wall %.1f s",
                    method,
                    record.trace().best,
                    len(record.epochs),
                    record.n_trials,
                    record.wall_s,
                )
    return paths
