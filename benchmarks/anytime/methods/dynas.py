"""dynas' own searches through the engine (``dynas_service.engine.run_search``).

Dynamic models use the service defaults (weighted l1, 20 initial units, the thesis
ranges); static ones (``dynamic=False``) put the layer sizes into the space and use the
benchmark's static regularizer, like the stock baselines. Epochs are timed when the
engine's observer receives their :class:`EpochRecord` in the driver, as the Tune
baselines' callback does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from benchmarks.anytime.config import HIDDEN_LAYERS, VALIDATION_FRACTION
from benchmarks.anytime.methods import RunContext, RunInfo
from benchmarks.anytime.records import EpochLog
from dynas_service.events import BestRecord, EpochRecord, IndividualInfo

DYNAMIC_REGULARIZER = "weighted_l1"
INITIAL_UNITS = 20


class EpochObserver:
    """A ``SearchObserver`` that adds every epoch to the run's :class:`EpochLog`."""

    def __init__(self, log: EpochLog) -> None:
        self.log = log
        self.trials: set[str] = set()
        self.individuals = 0
        self.status: str | None = None
        self.error: str | None = None
        self.engine_t: list[float] = []

    def on_individual_start(self, info: IndividualInfo) -> None:
        self.individuals += 1

    def on_epoch(self, record: EpochRecord) -> None:
        self.trials.add(record.trial_id)
        self.engine_t.append(record.t)
        self.log.add(record.value, record.epoch_seconds, record.trial_id)

    def on_best(self, best: BestRecord) -> None:
        return None

    def on_finish(self, status: str, error: str | None) -> None:
        self.status, self.error = status, error


def _space(dynamic: bool, learning_rate: tuple[float, float]) -> Any:
    """The thesis' default space with ``learning_rate`` as the run's range."""
    from dynas_service.search import FloatParam, SearchSpace

    space = SearchSpace.default(dynamic=dynamic, hidden_layers=HIDDEN_LAYERS)
    return SearchSpace({**space.params, "learning_rate": FloatParam(*learning_rate)})


def build_request(ctx: RunContext, algorithm: str, dynamic: bool, options: dict[str, Any]) -> Any:
    """The engine's ``SearchRequest`` for this run (same split, budget and CPUs)."""
    from dynas_service.engine import ModelOptions, SearchRequest

    cfg = ctx.config
    model = ModelOptions(
        family=ctx.data.family,
        hidden_layers=HIDDEN_LAYERS,
        initial_units=INITIAL_UNITS,
        dynamic=dynamic,
        regularizer=DYNAMIC_REGULARIZER if dynamic else cfg.static_regularizer,
        dropout=None,
    )
    return SearchRequest(
        job_id=f"bench-{ctx.data.key}-{algorithm}-{'dyn' if dynamic else 'static'}-{ctx.seed}",
        algorithm=algorithm,
        algorithm_options=dict(options),
        space=_space(dynamic, cfg.learning_rate),
        model=model,
        dataset=ctx.data.ref,
        data_dir=cfg.data_dir,
        validation_fraction=VALIDATION_FRACTION,
        sample=ctx.data.sample,
        seed=ctx.seed,
        budget_seconds=cfg.budget_s,
        budget_trials=None,
        cpus_per_trial=1,
        gpus_per_trial=cfg.gpus_per_trial,
        max_concurrent_trials=cfg.cpus,
    )


def run_dynas(
    ctx: RunContext,
    log: EpochLog,
    *,
    algorithm: str,
    dynamic: bool,
    algorithm_options: dict[str, Any],
) -> RunInfo:
    """One dynas search until its budget; raises if the engine reports a failure."""
    from dynas_service import engine

    # The engine exposes run_search lazily (module __getattr__), which mypy sees as object.
    run_search = cast(Callable[..., str], engine.run_search)
    request = build_request(ctx, algorithm, dynamic, algorithm_options)
    observer = EpochObserver(log)
    job_dir = ctx.work_dir / "job"
    job_dir.mkdir(parents=True, exist_ok=True)
    log.start()
    status = run_search(request, job_dir, observer)
    if status == "failed":
        raise RuntimeError(f"dynas engine failed: {observer.error}")
    return RunInfo(
        n_trials=len(observer.trials),
        extra={
            "status": status,
            "individuals": observer.individuals,
            "algorithm_options": dict(algorithm_options),
            "engine_last_t": max(observer.engine_t, default=None),
        },
    )
