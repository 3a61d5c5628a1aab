"""Per-algorithm wiring: the Tune searcher and scheduler of a run, and its persisted state.

State lives in ``<job_dir>/search-state/state.pkl`` (see :mod:`.state`): the search object
(its RNG and position), the job's elapsed time and trial count, and the configs to restart
with: the evolution's current generation (every slot starts from a snapshot taken at the
generation boundary) or the unfinished trials of a configuration search (from a snapshot
of their latest checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ray.tune.schedulers import FIFOScheduler, TrialScheduler
from ray.tune.search import ConcurrencyLimiter, Searcher

from dynas_service.engine.configs import ConfigurationSearcher, make_configuration_search
from dynas_service.engine.evolution import (
    EvolutionCoordinator,
    EvolutionScheduler,
    EvolutionSearcher,
)
from dynas_service.engine.layout import JobLayout
from dynas_service.engine.request import SearchRequest
from dynas_service.engine.state import (
    collect_snapshots,
    load_state,
    save_state,
    snapshot_checkpoint,
)
from dynas_service.search import Evolution, EvolutionConfig


@dataclass
class Plan:
    """What one run hands to Tune, and how it saves the job's state afterwards."""

    search_alg: Searcher
    scheduler: TrialScheduler
    experiment_name: str
    layout: JobLayout
    state: dict[str, Any]
    coordinator: EvolutionCoordinator | None = None
    searcher: ConfigurationSearcher | None = None
    latest: dict[str, Any] = field(default_factory=dict)  # trial id -> latest checkpoint

    @property
    def elapsed_s(self) -> float:
        return float(self.state.get("elapsed_s", 0.0))

    def save(self, elapsed_s: float) -> None:
        """Persist the state for a later resume: at generation ends (evolution), when a
        configuration is handed out or a trial ends (configuration searches), and at the
        end of the run."""
        self.state["elapsed_s"] = elapsed_s
        if self.coordinator is not None:
            self.state["created"] = self.coordinator.created
            self.state["evolution"] = self.coordinator.evolution
            self.state["resume_configs"] = self.coordinator.configs()
        if self.searcher is not None:
            self.state["started"] = self.searcher.started
            self.state["search"] = self.searcher.search
            self.state["resume_configs"] = self._unfinished_configs()
        save_state(self.layout.state_dir, self.state)
        if self.searcher is not None:
            collect_snapshots(self.layout.models_dir, self.state["resume_configs"])

    def _unfinished_configs(self) -> list[dict[str, Any]]:
        assert self.searcher is not None
        configs = list(self.searcher.resumed)
        for trial_id, config in self.searcher.in_flight.items():
            checkpoint = self.latest.get(trial_id)
            if checkpoint is not None:
                # Unique per checkpoint: a later save must not find an older snapshot.
                name = (f"{config['individual_id']}-r{self.state['runs']}-"
                        f"{Path(checkpoint.path).name}")
                config = {**config, "origin": "continue",
                          "source": snapshot_checkpoint(checkpoint,
                                                        self.layout.models_dir / name)}
            configs.append(config)
        return configs


def build_plan(request: SearchRequest, layout: JobLayout, workers: int, storage: str,
               resume: bool) -> Plan:
    """The searcher/scheduler for ``request``; from the saved state when ``resume``."""
    state = (load_state(layout.state_dir) if resume else None) or {}
    if state and state.get("algorithm") != request.algorithm:
        raise ValueError(f"cannot resume a {state.get('algorithm')!r} job as "
                         f"{request.algorithm!r}")
    state["algorithm"] = request.algorithm
    state["runs"] = int(state.get("runs", 0)) + 1
    name = f"run-{state['runs']}"
    if request.algorithm == "evolution":
        return _evolution_plan(request, layout, workers, state, name)
    return _configuration_plan(request, layout, workers, state, name)


def _evolution_plan(request: SearchRequest, layout: JobLayout, workers: int,
                    state: dict[str, Any], name: str) -> Plan:
    evolution = state.get("evolution") or Evolution(
        request.space, EvolutionConfig(**request.algorithm_options), seed=request.seed)
    coordinator = EvolutionCoordinator(
        evolution, seed=request.seed, cpus=request.cpus_per_trial, workers=workers,
        snapshot_dir=layout.models_dir, budget_trials=request.budget_trials,
        created=int(state.get("created", 0)), stuck_timeout_s=request.stuck_timeout_s)
    coordinator.begin(state.get("resume_configs"))
    searcher = EvolutionSearcher(coordinator)
    config = evolution.config
    # Bounds live trials (slots): the largest generation, survivors' clones included.
    slots = max(workers, len(coordinator.gen.queue), 2 * (config.population + 1) + config.n_fresh)
    return Plan(ConcurrencyLimiter(searcher, max_concurrent=slots),
                EvolutionScheduler(coordinator), name, layout, state, coordinator=coordinator)


def _configuration_plan(request: SearchRequest, layout: JobLayout, workers: int,
                        state: dict[str, Any], name: str) -> Plan:
    search = state.get("search") or make_configuration_search(
        request.algorithm, request.space, request.algorithm_options, request.seed)
    searcher = ConfigurationSearcher(
        search, seed=request.seed, cpus=request.cpus_per_trial,
        budget_trials=request.budget_trials, started=int(state.get("started", 0)),
        resumed=state.get("resume_configs"))
    return Plan(ConcurrencyLimiter(searcher, max_concurrent=workers), FIFOScheduler(), name,
                layout, state, searcher=searcher)
