"""Anytime hyperparameter evolution on Ray Tune: trials are slots, generations synchronous.

Each Tune trial is a slot hosting one individual per generation. A slot trains its
decision's ``epochs`` epochs and is paused (its actor is reused by the next slot) or, when
no slot waits for a worker, trains ahead until the barrier; once every slot finished its
epochs, :class:`EvolutionCoordinator` asks the search
package for the next generation and rewrites the slots' configs with ``Trial.set_config``
(public API): a ``Continue`` keeps its slot and Tune's own checkpoint; a ``Clone`` gets a
scheduler-owned snapshot of the source's latest checkpoint as ``source`` (Tune's checkpoint
retention can never delete it); a ``Fresh`` starts from scratch. Decisions beyond the
existing slots become new trials through :class:`EvolutionSearcher`; extra slots are
stopped. Slots that error (after Tune's retries) or stay silent longer than
``stuck_timeout_s`` are dropped from the generation, which then goes on without them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, TrialScheduler
from ray.tune.search import Searcher

from dynas_service.engine.generation import Generation, decision_config
from dynas_service.engine.state import collect_snapshots, snapshot_checkpoint
from dynas_service.engine.trainable import VALUE
from dynas_service.search import Clone, Continue, Evolution, SlotDecision


class EvolutionCoordinator:
    """Driver-side state of one evolution run, shared by its scheduler and searcher.

    ``workers``: how many slots may train at once; ``budget_trials``: individuals over the
    job's life (``created`` counts earlier runs); ``on_generation(coordinator)`` is called
    after each new generation was handed out (the engine persists its state there).
    """

    def __init__(self, evolution: Evolution, *, seed: int, cpus: float, workers: int,
                 snapshot_dir: Path, budget_trials: int | None = None, created: int = 0,
                 stuck_timeout_s: float = 600.0, on_generation: Any = None) -> None:
        self.evolution = evolution
        self.seed, self.cpus, self.workers = seed, cpus, max(1, workers)
        self.snapshot_dir = snapshot_dir
        self.budget_trials, self.created = budget_trials, created
        self.stuck_timeout_s = stuck_timeout_s
        self.on_generation = on_generation
        self.gen = Generation()
        self.finished = False
        self.evolve_seconds: list[float] = []

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its searcher and scheduler; the hook is a driver-only closure.
        return {**self.__dict__, "on_generation": None}

    # -- starting -----------------------------------------------------------------------
    def begin(self, configs: list[dict[str, Any]] | None = None) -> None:
        """Queue the first generation (or ``configs`` of a resumed generation)."""
        if configs is None:
            decisions = self.evolution.start()
            self.created += len(decisions)
            configs = [self._config(d, None, None) for d in decisions]
        self.gen = Generation(number=max(1, self.evolution.generation), queue=list(configs))

    def _config(self, decision: SlotDecision, previous: dict[str, Any] | None,
                source: str | None) -> dict[str, Any]:
        return decision_config(decision, previous, generation=self.evolution.generation,
                               source=source, seed=self.seed, cpus=self.cpus)

    def next_queued(self, trial_id: str) -> dict[str, Any] | None:
        """A queued config for a new trial ``trial_id`` (None when nothing waits)."""
        if not self.gen.queue:
            return None
        config = self.gen.queue.pop(0)
        self.gen.plan[trial_id] = config
        self.gen.started.add(trial_id)
        return config

    # -- the barrier --------------------------------------------------------------------
    def ready(self, trials: list[Trial]) -> bool:
        """Every slot of the generation trained its epochs (and is paused or still running
        ahead, see :meth:`waiting`)."""
        if self.finished or self.gen.queue or not self.gen.plan:
            return False
        by_id = {t.trial_id: t for t in trials}
        for trial_id in self.gen.plan:
            trial = by_id.get(trial_id)
            if trial is None or trial.is_finished():
                continue
            # Tune registers a reported checkpoint through an asynchronous save; until it
            # lands (``is_saving``) ``trial.checkpoint`` is the previous one.
            if not (self.gen.complete(trial_id) and not trial.is_saving
                    and trial.status in (Trial.PAUSED, Trial.RUNNING)):
                return False
        return True

    def waiting(self, trials: list[Trial]) -> bool:
        """Whether a slot of this generation still waits for a worker.

        A slot that finished its epochs yields its worker only then; otherwise it keeps
        training its individual ahead until the barrier. This keeps workers busy in the
        generation's tail, and a running actor is never torn down at the barrier (Tune
        caches a paused trial's actor only while another trial is staged to reuse it).
        """
        if self.gen.queue:
            return True
        return any(t.trial_id in self.gen.plan and (
            t.status == Trial.PENDING
            or (t.status == Trial.PAUSED and t.trial_id not in self.gen.started))
            for t in trials)

    def advance(self, trials: list[Trial]) -> list[Trial]:
        """Hand out the next generation; returns the slots to stop."""
        start = time.perf_counter()
        live = {t.trial_id: t for t in trials
                if t.trial_id in self.gen.plan and not t.is_finished()}
        # Only individuals whose model still exists (live slot, saved checkpoint) may be
        # selected: a slot that ended after reporting (error, retry exhausted) would be an
        # unusable clone source, so its individual counts as dropped.
        usable = {self.gen.plan[tid]["individual_id"] for tid, t in live.items()
                  if t.checkpoint is not None}
        results = {k: r for k, r in self.gen.results().items() if k in usable}
        if self.budget_trials is not None and self.created >= self.budget_trials:
            self.finished = True
            return list(live.values())
        decisions = self.evolution.next_generation(results)
        self.created += sum(not isinstance(d, Continue) for d in decisions)
        hosts = {self.gen.plan[tid]["individual_id"]: t for tid, t in live.items()}
        old_plan = self.gen.plan
        new = Generation(number=self.evolution.generation, progress=self.gen.progress,
                         seconds_per_epoch=self.gen.seconds_per_epoch)
        free = [t for ind, t in hosts.items()
                if ind not in {d.individual_id for d in decisions}]
        for decision in decisions:
            previous = None
            trial = hosts.get(decision.individual_id)
            if trial is not None:
                previous = old_plan[trial.trial_id]
            else:
                trial = free.pop(0) if free else None
            config = self._config(decision, previous, self._source(decision, hosts))
            if trial is None:
                new.queue.append(config)
                continue
            trial.set_config(config)
            new.plan[trial.trial_id] = config
            if trial.status == Trial.RUNNING and previous is not None:
                new.started.add(trial.trial_id)  # keeps running: its next epochs count
                new.last_report[trial.trial_id] = time.monotonic()
        self.gen = new
        collect_snapshots(self.snapshot_dir, self.configs())
        self.evolve_seconds.append(time.perf_counter() - start)
        if self.on_generation is not None:
            self.on_generation(self)
        return free

    def _source(self, decision: SlotDecision, hosts: dict[str, Trial]) -> str | None:
        """A snapshot of the model the decision starts from (None for a fresh one).

        Continued individuals are snapshotted too (hard links, cheap) so that a resumed
        job restarts every slot from this generation boundary.
        """
        if isinstance(decision, Clone):
            model_id = decision.source_id
        elif isinstance(decision, Continue):
            model_id = decision.individual_id
        else:
            return None
        trial = hosts.get(model_id)
        progress = self.gen.progress.get(model_id)
        if trial is None or trial.checkpoint is None or progress is None:
            if isinstance(decision, Clone):
                raise ValueError(f"clone source {model_id!r} has no saved checkpoint")
            return None
        return snapshot_checkpoint(trial.checkpoint,
                                   self.snapshot_dir / f"{model_id}-a{progress.age}")

    def configs(self) -> list[dict[str, Any]]:
        """Every config of the current generation (slots and queued), for persistence."""
        return [*self.gen.plan.values(), *self.gen.queue]

    # -- failures -----------------------------------------------------------------------
    def drop(self, trial_id: str) -> None:
        """Forget a slot that ended (error, stop); the generation goes on without it."""
        self.gen.plan.pop(trial_id, None)

    def stuck(self, trials: list[Trial], now: float) -> list[Trial]:
        """Released slots silent for longer than ``stuck_timeout_s``: running, or pending
        on an actor that does not answer (a hung worker that Tune reuses for the next slot
        keeps that slot pending forever)."""
        return [t for t in trials if t.status in (Trial.RUNNING, Trial.PENDING)
                and t.trial_id in self.gen.plan and t.trial_id in self.gen.last_report
                and now - self.gen.last_report[t.trial_id] > self.stuck_timeout_s]

    # -- choosing -----------------------------------------------------------------------
    def next_slot(self, trials: list[Trial]) -> Trial | None:
        """The paused slot to release next: longest expected run first."""
        if sum(t.status == Trial.PENDING for t in trials) >= self.workers:
            return None
        waiting = [t for t in trials if t.status == Trial.PAUSED and t.trial_id in self.gen.plan
                   and t.trial_id not in self.gen.started]
        if not waiting:
            return None
        chosen = max(waiting, key=lambda t: self.gen.expected_seconds(t.trial_id))
        self.gen.started.add(chosen.trial_id)
        self.gen.last_report[chosen.trial_id] = time.monotonic()  # the stuck clock starts
        return chosen


class EvolutionScheduler(FIFOScheduler):
    """Carries out the coordinator's generations (see the module docstring)."""

    def __init__(self, coordinator: EvolutionCoordinator) -> None:
        super().__init__()
        self.coordinator = coordinator

    def on_trial_result(self, tune_controller: Any, trial: Trial, result: dict) -> str:
        gen = self.coordinator.gen
        config = gen.plan.get(trial.trial_id)
        if config is None or VALUE not in result:
            return TrialScheduler.PAUSE
        if result.get("individual_id") != config["individual_id"]:
            return TrialScheduler.PAUSE  # an epoch of the slot's previous individual
        if gen.record(trial.trial_id, result, time.monotonic()) and self.coordinator.waiting(
                tune_controller.get_trials()):
            return TrialScheduler.PAUSE
        return TrialScheduler.CONTINUE

    def on_trial_error(self, tune_controller: Any, trial: Trial) -> None:
        self.coordinator.drop(trial.trial_id)

    def on_trial_complete(self, tune_controller: Any, trial: Trial, result: dict) -> None:
        self.coordinator.drop(trial.trial_id)

    def on_trial_remove(self, tune_controller: Any, trial: Trial) -> None:
        self.coordinator.drop(trial.trial_id)

    def choose_trial_to_run(self, tune_controller: Any) -> Trial | None:
        coordinator = self.coordinator
        trials = tune_controller.get_trials()
        for trial in coordinator.stuck(trials, time.monotonic()):
            coordinator.drop(trial.trial_id)
            tune_controller.stop_trial(trial)
        if coordinator.ready(trials):
            for trial in coordinator.advance(trials):
                coordinator.drop(trial.trial_id)
                tune_controller.stop_trial(trial)
        if coordinator.finished:
            return None
        return coordinator.next_slot(trials)

    def debug_string(self) -> str:
        return f"EvolutionScheduler: generation {self.coordinator.gen.number}"


class EvolutionSearcher(Searcher):
    """Creates a trial for each queued config; finishes with the coordinator."""

    def __init__(self, coordinator: EvolutionCoordinator) -> None:
        super().__init__(metric=VALUE, mode="max")
        self.coordinator = coordinator

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        if self.coordinator.finished:
            return Searcher.FINISHED
        return self.coordinator.next_queued(trial_id)

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        return None

    def save(self, checkpoint_path: str) -> None:
        """Unused: the engine persists the evolution itself."""

    def restore(self, checkpoint_path: str) -> None:
        """See :meth:`save`."""

