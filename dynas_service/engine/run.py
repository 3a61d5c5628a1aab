"""``run_search``: one run of a job as a Ray Tune experiment, blocking until it ends."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import ray
from ray import tune

from dynas_service.engine import warm_workers
from dynas_service.engine.best import BestWriter, read_trace
from dynas_service.engine.callback import EngineCallback, JobClock
from dynas_service.engine.layout import JobLayout
from dynas_service.engine.plans import Plan, build_plan
from dynas_service.engine.request import SearchRequest
from dynas_service.engine.stopper import JobStopper
from dynas_service.engine.trainable import TrainingData, train_individual
from dynas_service.events import SearchObserver

_log = logging.getLogger(__name__)


def ensure_ray() -> bool:
    """Join ``RAY_ADDRESS`` if set, else start a local Ray; no-op if Ray is initialized.

    Returns True when this call joined a running cluster. The job's workers import the
    trainable as they start (:mod:`dynas_service.engine.warm_workers`).
    """
    if ray.is_initialized():
        return False
    address = os.environ.get("RAY_ADDRESS")
    ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
             ignore_reinit_error=True, runtime_env=warm_workers.runtime_env())
    return bool(address)


def load_training_data(request: SearchRequest) -> TrainingData:
    """The job's dataset, split once in the driver."""
    from dynas_service.data import resolve_dataset, train_validation_split

    dataset = resolve_dataset(request.dataset, request.data_dir)
    split = train_validation_split(dataset, validation_fraction=request.validation_fraction,
                                   sample=request.sample, seed=request.seed)
    info = dataset.info
    n_outputs = int(info.n_classes) if info.task == "classification" and info.n_classes else 1
    return TrainingData(f"{request.job_id}-{time.time_ns()}", split.X_train, split.y_train,
                        split.X_val, split.y_val, info.task, tuple(info.input_shape),
                        n_outputs, request.model)


def workers_for(request: SearchRequest) -> int:
    """How many trials can train at once: the cluster's CPUs (or GPUs) per trial."""
    resources = ray.cluster_resources()
    slots = int(resources.get("CPU", 1) // request.cpus_per_trial)
    if request.gpus_per_trial > 0:
        slots = min(slots, int(resources.get("GPU", 0) // request.gpus_per_trial))
    slots = max(1, slots)
    if request.max_concurrent_trials is not None:
        slots = min(slots, request.max_concurrent_trials)
    return slots


def run_search(request: SearchRequest, job_dir: Path, observer: SearchObserver, *,
               resume: bool = False) -> str:
    """Run (or resume) the search until its budget, its end or a stop request.

    Returns ``finished`` (budget spent or search exhausted), ``stopped`` (``<job_dir>/STOP``)
    or ``failed``. The best model and the trace are on disk whenever this returns; calls
    ``observer.on_finish`` exactly once. A ``STOP`` file left by an earlier run is removed
    when the run starts. With ``resume`` the job continues from ``search-state/`` (its
    elapsed time, trial count, search position, and the evolution's last generation or
    the unfinished configurations); the budgets count the job's whole life.
    """
    layout = JobLayout(Path(job_dir))
    layout.root.mkdir(parents=True, exist_ok=True)
    status, error = "failed", None
    try:
        status = _run(request, layout, observer, resume)
    except Exception as exc:
        _log.exception("search %s failed", request.job_id)
        error = f"{type(exc).__name__}: {exc}"
    try:
        observer.on_finish(status, error)
    except Exception:
        _log.exception("observer failed in on_finish")
    return status


def _run(request: SearchRequest, layout: JobLayout, observer: SearchObserver,
         resume: bool) -> str:
    joined = ensure_ray()
    layout.stop_file.unlink(missing_ok=True)  # a stop request of an earlier run
    workers = workers_for(request)
    if joined:
        # Joined a running cluster just now: the trials' workers start while Tune sets up
        # (a new local Ray prestarts workers for its first driver by itself).
        warm_workers.prestart(workers)
    data = load_training_data(request)
    storage = request.storage_uri or str(layout.ray_dir)
    plan = build_plan(request, layout, workers, storage, resume)
    _log.info("search %s: %s on %s (%d train / %d validation samples), %d trials at once",
              request.job_id, request.algorithm, request.dataset, len(data.y_train),
              len(data.y_val), workers)
    offset = plan.elapsed_s
    trace = read_trace(layout.root)
    if trace:
        offset = max(offset, trace[-1].t)
    clock = JobClock(offset)
    remaining = None if request.budget_seconds is None else request.budget_seconds - offset
    if remaining is not None and remaining <= 0:
        return "finished"
    deadline = None if remaining is None else time.time() + remaining
    callback = EngineCallback(observer, BestWriter(layout.root), clock, plan.latest)
    if plan.coordinator is not None:
        plan.coordinator.on_generation = lambda _: plan.save(clock.now())
    if plan.searcher is not None:
        plan.searcher.on_change = lambda: plan.save(clock.now())
    try:
        _fit(request, plan, data, storage, callback, JobStopper(str(layout.stop_file), deadline))
    finally:
        if "://" not in storage:  # local or shared path: a best Tune never registered
            callback.adopt_unregistered(Path(storage) / plan.experiment_name)
        plan.save(clock.now())
    return "stopped" if layout.stop_file.exists() else "finished"


def trial_dirname(trial: Any) -> str:
    """Short trial directories (Tune's default embeds the whole config)."""
    return f"trial-{trial.trial_id}"


def _fit(request: SearchRequest, plan: Plan, data: TrainingData, storage: str,
         callback: EngineCallback, stopper: JobStopper) -> None:
    resources: dict[str, Any] = {"cpu": request.cpus_per_trial, "gpu": request.gpus_per_trial}
    trainable = tune.with_resources(tune.with_parameters(train_individual, data=data),
                                    resources)
    # Tune's JSON/CSV/TensorBoard loggers cost time per result; the engine records its own.
    # Without them Tune's end-of-run analysis warns once per trial that it found no
    # result files: expected, and noise in runner.log.
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=plan.search_alg, scheduler=plan.scheduler,
                                    num_samples=-1, reuse_actors=True,
                                    trial_dirname_creator=trial_dirname),
        run_config=tune.RunConfig(
            name=plan.experiment_name, storage_path=storage, stop=stopper,
            callbacks=[callback], verbose=0,
            failure_config=tune.FailureConfig(max_failures=2),
            # Every checkpoint is kept in Tune's eyes; the callback deletes superseded ones.
            checkpoint_config=tune.CheckpointConfig(num_to_keep=None),
        ),
    )
    tuner.fit()
