"""Stock Ray Tune on static models: random search, ASHA and PopulationBasedTraining.

Each uses Tune's own components with their documented defaults, the thesis' ranges, one
CPU (and ``gpus_per_trial``) per trial, ``cpus`` trials at a time and Tune's global
``time_budget_s``. Epochs are timed by a driver-side callback as their results arrive,
the same way the dynas engine's observer sees them.
"""

from __future__ import annotations

import random
from typing import Any

import ray
from ray import tune
from ray.tune.schedulers import (
    ASHAScheduler,
    FIFOScheduler,
    PopulationBasedTraining,
    TrialScheduler,
)
from ray.tune.search.basic_variant import BasicVariantGenerator

from benchmarks.anytime.config import (
    BATCH_SIZE,
    HIDDEN_LAYERS,
    LAYER_SIZE,
    LEARNING_RATE,
    REG_STRENGTH,
)
from benchmarks.anytime.methods import RunContext, RunInfo
from benchmarks.anytime.methods.static_trainable import train_static
from benchmarks.anytime.problem import Problem
from benchmarks.anytime.records import EpochLog

#: PBT: epochs between exploit/explore steps (and checkpoints); PBT trials run until the
#: budget ends them.
PBT_INTERVAL = 4
PBT_MAX_EPOCHS = 100_000


def tune_space(
    regularizer: str, learning_rate: tuple[float, float] = LEARNING_RATE
) -> dict[str, Any]:
    """The thesis ranges as Tune domains; ``reg_strength`` only when it does something."""
    space: dict[str, Any] = {
        "learning_rate": tune.uniform(*learning_rate),
        "batch_size": tune.randint(BATCH_SIZE[0], BATCH_SIZE[1] + 1),
        "trial_seed": tune.randint(0, 2**31 - 1),
    }
    for i in range(HIDDEN_LAYERS):
        space[f"units_{i}"] = tune.randint(LAYER_SIZE[0], LAYER_SIZE[1] + 1)
    if regularizer != "none":
        space["reg_strength"] = tune.loguniform(*REG_STRENGTH)
    return space


class _EpochCallback(tune.Callback):
    """Adds each reported epoch to the run's :class:`EpochLog` (driver process)."""

    def __init__(self, log: EpochLog) -> None:
        self.log = log
        self.trials: set[str] = set()

    def on_trial_result(
        self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
    ) -> None:
        self.trials.add(trial.trial_id)
        self.log.add(result["value"], result["epoch_seconds"], trial.trial_id)


def _run(
    ctx: RunContext,
    log: EpochLog,
    scheduler: TrialScheduler,
    *,
    num_samples: int,
    max_epochs: int,
    checkpoint_every: int = 0,
) -> RunInfo:
    cfg = ctx.config
    problem = Problem.from_dataset(ctx.data, ctx.seed)
    trainable = tune.with_parameters(
        train_static,
        problem=problem,
        regularizer=cfg.static_regularizer,
        max_epochs=max_epochs,
        checkpoint_every=checkpoint_every,
        learning_rate=cfg.learning_rate,
    )
    resources = {"cpu": 1, "gpu": cfg.gpus_per_trial}
    callback = _EpochCallback(log)
    tuner = tune.Tuner(
        tune.with_resources(trainable, resources),
        param_space=tune_space(cfg.static_regularizer, cfg.learning_rate),
        tune_config=tune.TuneConfig(
            metric="objective",
            mode="max" if problem.higher_is_better else "min",
            search_alg=BasicVariantGenerator(random_state=ctx.seed, max_concurrent=cfg.cpus),
            scheduler=scheduler,
            num_samples=num_samples,
            time_budget_s=cfg.budget_s,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str((ctx.work_dir / "ray").resolve()),
            callbacks=[callback],
            verbose=0,
            # PBT clones read other trials' checkpoints: deleting old ones races with
            # that (Ray's own warning), so all are kept; the work dir is removed after.
            checkpoint_config=tune.CheckpointConfig(num_to_keep=None),
        ),
    )
    log.start()
    tuner.fit()
    return RunInfo(n_trials=len(callback.trials), extra={"ray": ray.__version__})


def run_tune_random(ctx: RunContext, log: EpochLog) -> RunInfo:
    """Random search (BasicVariantGenerator, FIFO): every trial trains ``max_epochs``."""
    return _run(ctx, log, FIFOScheduler(), num_samples=-1, max_epochs=ctx.config.max_epochs)


def run_tune_asha(ctx: RunContext, log: EpochLog) -> RunInfo:
    """Random search with ASHA early stopping (Tune's defaults, ``max_t = max_epochs``)."""
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=ctx.config.max_epochs)
    return _run(ctx, log, scheduler, num_samples=-1, max_epochs=ctx.config.max_epochs)


def run_tune_pbt(ctx: RunContext, log: EpochLog) -> RunInfo:
    """PopulationBasedTraining over learning rate and batch size (and reg strength).

    A population of ``pbt_population`` static models (layer sizes drawn once, PBT cannot
    resize a checkpoint) exploits/explores every ``PBT_INTERVAL`` epochs until the budget.
    """
    random.seed(ctx.seed)  # PBT draws its explore steps from the global `random`
    mutations: dict[str, Any] = {
        "learning_rate": tune.uniform(*ctx.config.learning_rate),
        "batch_size": tune.randint(BATCH_SIZE[0], BATCH_SIZE[1] + 1),
    }
    if ctx.config.static_regularizer != "none":
        mutations["reg_strength"] = tune.loguniform(*REG_STRENGTH)
    scheduler = PopulationBasedTraining(
        time_attr="training_iteration",
        perturbation_interval=PBT_INTERVAL,
        hyperparam_mutations=mutations,
    )
    return _run(
        ctx,
        log,
        scheduler,
        num_samples=ctx.config.pbt_population,
        max_epochs=PBT_MAX_EPOCHS,
        checkpoint_every=PBT_INTERVAL,
    )
