"""Optuna TPE with its MedianPruner on static models, in ``cpus`` worker processes.

Why processes and not ``n_jobs`` threads: a small model's epoch is dominated by Python
per-step overhead (Adam, autograd bookkeeping) that holds the GIL, so two threads in one
process would mostly take turns on one core. Two processes sharing one journal-file study
(Optuna's documented way to run distributed on one machine) use both cores, like Ray's
two trial workers do. Each process trains one trial at a time with one torch thread.

Workers are forked from a fork server that imported torch, optuna and the trainable once
per benchmark process (Ray's trial workers are likewise started from a running Ray);
each run still starts its own worker processes.

Epochs are stamped in the workers with ``time.time()`` (same machine, same clock) and
appended to per-worker JSON-lines files that the driver reads back.
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.anytime.config import (
    BATCH_SIZE,
    HIDDEN_LAYERS,
    LAYER_SIZE,
    LEARNING_RATE,
    REG_STRENGTH,
)
from benchmarks.anytime.methods import RunContext, RunInfo
from benchmarks.anytime.problem import Problem
from benchmarks.anytime.records import EpochLog

STUDY = "anytime"
_PRELOAD = [
    "torch",
    "optuna",
    "benchmarks.anytime.problem",
    "benchmarks.anytime.methods.static_trainable",
    "benchmarks.anytime.methods.optuna_tpe",
]


@functools.cache
def worker_context() -> Any:
    """The process' fork-server context (started lazily, once, with the preloads)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def _noop() -> None:
    return None


def warm_up_workers() -> None:
    """Start the fork server (importing the preloads) and one worker through it."""
    process = worker_context().Process(target=_noop)
    process.start()
    process.join()


@dataclass(frozen=True)
class WorkerJob:
    """What one Optuna worker process needs (picklable)."""

    index: int
    problem: Problem
    storage_path: str
    log_path: str
    seed: int
    deadline: float  # time.time() at which the budget ends
    max_epochs: int
    regularizer: str
    learning_rate: tuple[float, float]


def suggest(
    trial: Any, regularizer: str, learning_rate: tuple[float, float] = LEARNING_RATE
) -> dict[str, Any]:
    """The thesis ranges as Optuna distributions."""
    params: dict[str, Any] = {
        "learning_rate": trial.suggest_float("learning_rate", *learning_rate),
        "batch_size": trial.suggest_int("batch_size", *BATCH_SIZE),
    }
    for i in range(HIDDEN_LAYERS):
        params[f"units_{i}"] = trial.suggest_int(f"units_{i}", *LAYER_SIZE)
    if regularizer != "none":
        params["reg_strength"] = trial.suggest_float("reg_strength", *REG_STRENGTH, log=True)
    return params


def _objective(job: WorkerJob, stream: Any) -> Any:
    import optuna

    from benchmarks.anytime.methods.static_trainable import objective as scheduler_value
    from benchmarks.anytime.problem import StaticTrial

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, job.regularizer, job.learning_rate)
        static = StaticTrial(
            job.problem, params, seed=job.seed * 100_003 + trial.number, regularizer=job.regularizer
        )
        value = math.nan
        for epoch in range(job.max_epochs):
            if time.time() >= job.deadline:
                break
            result = static.epoch()
            value = scheduler_value(result.val_metric, job.problem.higher_is_better)
            stream.write(
                json.dumps(
                    {
                        "ts": time.time(),
                        "value": result.val_metric,
                        "epoch_seconds": result.seconds,
                        "trial": f"{job.index}-{trial.number}",
                    }
                )
                + "\n"
            )
            stream.flush()
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        if math.isnan(value):  # the budget ended before its first epoch
            raise optuna.TrialPruned()
        return value

    return objective


def worker(job: WorkerJob) -> None:
    """Run TPE trials until the deadline (entry point of a worker process)."""
    import optuna
    import torch
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=STUDY,
        storage=JournalStorage(JournalFileBackend(job.storage_path)),
        sampler=optuna.samplers.TPESampler(seed=job.seed * 1000 + job.index),
        pruner=optuna.pruners.MedianPruner(),
    )
    with open(job.log_path, "a") as stream:
        study.optimize(_objective(job, stream), timeout=max(job.deadline - time.time(), 0.0))


def run_optuna_tpe(ctx: RunContext, log: EpochLog) -> RunInfo:
    """TPE + MedianPruner (Optuna defaults) with ``cpus`` processes until the budget."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    cfg = ctx.config
    problem = Problem.from_dataset(ctx.data, ctx.seed)
    storage_path = str(ctx.work_dir / "optuna-journal.log")
    optuna.create_study(
        study_name=STUDY,
        storage=JournalStorage(JournalFileBackend(storage_path)),
        direction="maximize" if problem.higher_is_better else "minimize",
    )
    log.start()
    deadline = log.wall_start + cfg.budget_s
    jobs = [
        WorkerJob(
            i,
            problem,
            storage_path,
            str(ctx.work_dir / f"epochs-{i}.jsonl"),
            ctx.seed,
            deadline,
            cfg.max_epochs,
            cfg.static_regularizer,
            cfg.learning_rate,
        )
        for i in range(cfg.cpus)
    ]
    context = worker_context()
    processes = [context.Process(target=worker, args=(job,), daemon=True) for job in jobs]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=cfg.budget_s + 120)
        if process.is_alive():
            process.kill()
    return _collect(jobs, log, storage_path)


def _collect(jobs: list[WorkerJob], log: EpochLog, storage_path: str) -> RunInfo:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    for job in jobs:
        path = Path(job.log_path)
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            row = json.loads(line)
            log.add(row["value"], row["epoch_seconds"], row["trial"], t=row["ts"] - log.wall_start)
    study = optuna.load_study(
        study_name=STUDY, storage=JournalStorage(JournalFileBackend(storage_path))
    )
    states = [t.state.name for t in study.trials]
    return RunInfo(
        n_trials=len(states),
        extra={
            "optuna": optuna.__version__,
            "pruned": states.count("PRUNED"),
            "complete": states.count("COMPLETE"),
            "workers": len(jobs),
        },
    )
