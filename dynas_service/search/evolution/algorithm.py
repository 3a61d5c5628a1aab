"""Anytime hyperparameter evolution (thesis 5.3, Algorithms 3 and 4) as decisions.

One generation, as in the reference code (REPORT 4.3):

1. population P = the survivors of the last selection (each with its model);
2. for every member m of P an offspring: a *clone of m's model* whose genome is the mean of
   ``n_parents`` distinct random members of P, mutated and clipped;
3. ``n_fresh`` fresh individuals (new models);
4. everyone (P, offspring, fresh) trains ``epochs_per_generation`` epochs - the adapter's
   job, reported back through :meth:`Evolution.next_generation`;
5. ``population`` tournaments of size k (with replacement across tournaments) plus, with
   elitism, the fittest of the generation unchanged: that is the next P.

Decided where the thesis leaves room: the first generation (:meth:`Evolution.start`) is
``population`` fresh individuals with the initial genome, their offspring (fresh models,
mutated genomes) and ``n_fresh`` fresh ones, so that the first training round already
explores. A survivor picked by several tournaments keeps its model once (``Continue``);
every further pick is a ``Clone`` with the same genome. Age counts trained epochs and is
inherited by clones; the penalty uses it after the generation's training. Individuals
missing from the results (failed trials) are dropped; if none is left the evolution
restarts from a first generation, keeping its best. Not thread-safe; picklable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from dynas_service.search._rng import Seed, make_rng
from dynas_service.search.decisions import Clone, Continue, Fresh, IndividualResult, SlotDecision
from dynas_service.search.evolution.config import EvolutionConfig
from dynas_service.search.evolution.genome import Genome, initial_genome, mutate, recombine
from dynas_service.search.evolution.penalty import age_penalty, fitness
from dynas_service.search.evolution.selection import tournament_select
from dynas_service.search.space import SearchSpace

Kind = Literal["continue", "clone", "fresh"]


@dataclass
class Individual:
    """Bookkeeping for one individual: genome, age (epochs), epochs since own best."""

    individual_id: str
    genome: Genome
    age: int = 0
    stagnation: int = 0
    own_best: float | None = None  # best score so far, oriented higher-is-better
    epochs: int = 1  # epochs scheduled for the current generation
    result: IndividualResult | None = None


@dataclass
class _Slot:
    kind: Kind
    individual: Individual
    source_id: str | None = None


class Evolution:
    """Ask/tell evolution: :meth:`start`, then :meth:`next_generation` with the results."""

    def __init__(
        self, space: SearchSpace, config: EvolutionConfig | None = None, *, seed: Seed
    ) -> None:
        self.space = space
        self.config = config if config is not None else EvolutionConfig()
        self._rng = make_rng(seed)
        self._initial = initial_genome(space, self.config)
        self._counter = 0
        self.generation = 0  # generations handed out so far
        self._pending: dict[str, Individual] = {}
        self._population: list[str] = []
        self._best: IndividualResult | None = None

    @property
    def population_ids(self) -> tuple[str, ...]:
        """The survivors of the last selection (P), in decision order."""
        return tuple(self._population)

    def best(self) -> IndividualResult | None:
        """The best result by raw metric ever reported (not penalized); never gets worse."""
        return self._best

    def individual(self, individual_id: str) -> Individual:
        """A copy of the bookkeeping of an individual of the generation handed out last.

        Its ``age`` is the epochs its model had trained before this generation (inherited
        by clones), which the adapter may report with each epoch.
        """
        if individual_id not in self._pending:
            raise ValueError(f"{individual_id=} is not in the current generation")
        found = self._pending[individual_id]
        return Individual(**{**vars(found), "genome": dict(found.genome)})

    def penalty(self, individual: Individual) -> float:
        """The age (or stagnation) penalty of ``individual`` under this config."""
        cfg = self.config
        x = individual.age if cfg.age_penalty == "age" else individual.stagnation
        return age_penalty(x, age_limit=cfg.age_limit, a=cfg.age_penalty_a, b=cfg.age_penalty_b)

    def start(self) -> list[SlotDecision]:
        """The first generation; call once."""
        if self.generation:
            raise ValueError(
                f"start() was already called ({self.generation=}); use next_generation()"
            )
        return self._first_generation()

    def next_generation(self, results: Mapping[str, IndividualResult]) -> list[SlotDecision]:
        """Absorb the current generation's results and decide the next generation."""
        self._check_results(results)
        pool = []
        for individual in self._pending.values():
            result = results.get(individual.individual_id)
            if result is not None:
                self._absorb(individual, result)
                pool.append(individual)
        if not pool:
            return self._first_generation()
        return self._select_and_breed(pool)

    def _check_results(self, results: Mapping[str, IndividualResult]) -> None:
        if not self._pending:
            raise ValueError("next_generation() called before start()")
        unknown = sorted(set(results) - set(self._pending))
        if unknown:
            raise ValueError(f"results for individuals not in this generation: {unknown}")
        for key, result in results.items():
            if result.individual_id != key:
                raise ValueError(f"result keyed {key!r} is for {result.individual_id!r}")

    def _absorb(self, individual: Individual, result: IndividualResult) -> None:
        individual.age += individual.epochs
        individual.result = result
        score = result.value if result.higher_is_better else -result.value
        if math.isfinite(score) and (individual.own_best is None or score > individual.own_best):
            individual.own_best = score
            individual.stagnation = 0
        else:
            individual.stagnation += individual.epochs
        if math.isfinite(result.value) and _better(result, self._best):
            self._best = result

    def _fitness(self, individual: Individual) -> float:
        result = individual.result
        if result is None:
            raise ValueError(f"individual {individual.individual_id!r} has no result")
        return fitness(result.value, result.higher_is_better, self.penalty(individual))

    def _select_and_breed(self, pool: list[Individual]) -> list[SlotDecision]:
        cfg = self.config
        fits = [self._fitness(ind) for ind in pool]
        winners = tournament_select(fits, cfg.population, cfg.tournament_size, self._rng)
        chosen = [pool[i] for i in winners]
        fittest = pool[max(range(len(pool)), key=fits.__getitem__)]
        if cfg.elitism:
            chosen.append(fittest)
        slots = self._survivor_slots(chosen)
        survivors = [(s.individual, s.source_id or s.individual.individual_id) for s in slots]
        genomes = [ind.genome for ind, _ in survivors]
        for member, model_id in survivors:
            child = self._inherit(member, self._offspring_genome(genomes))
            slots.append(_Slot("clone", child, model_id))
        slots.extend(_Slot("fresh", self._new(self._fresh_genome())) for _ in range(cfg.n_fresh))
        self._population = [ind.individual_id for ind, _ in survivors]
        return self._hand_out(slots, focus_id=fittest.individual_id)

    def _survivor_slots(self, chosen: list[Individual]) -> list[_Slot]:
        slots, seen = [], set()
        for individual in chosen:
            if individual.individual_id in seen:
                twin = self._inherit(individual, dict(individual.genome))
                slots.append(_Slot("clone", twin, individual.individual_id))
            else:
                seen.add(individual.individual_id)
                slots.append(_Slot("continue", individual))
        return slots

    def _first_generation(self) -> list[SlotDecision]:
        members = [self._new(dict(self._initial)) for _ in range(self.config.population)]
        genomes = [m.genome for m in members]
        offspring = [self._new(self._offspring_genome(genomes)) for _ in members]
        fresh = [self._new(self._fresh_genome()) for _ in range(self.config.n_fresh)]
        self._population = [m.individual_id for m in members]
        return self._hand_out([_Slot("fresh", ind) for ind in members + offspring + fresh])

    def _offspring_genome(self, genomes: list[Genome]) -> Genome:
        size = min(self.config.n_parents, len(genomes))
        picks = self._rng.choice(len(genomes), size=size, replace=False)
        child = recombine([genomes[int(i)] for i in picks], self.space, self._rng)
        return mutate(child, self.space, self.config, self._rng)

    def _fresh_genome(self) -> Genome:
        if self.config.fresh_genome == "random":
            return self.space.sample(self._rng)
        return dict(self._initial)

    def _new(self, genome: Genome) -> Individual:
        self._counter += 1
        return Individual(f"ind-{self._counter:05d}", genome)

    def _inherit(self, source: Individual, genome: Genome) -> Individual:
        """A new individual carrying ``source``'s model history (age, stagnation, best)."""
        child = self._new(genome)
        child.age, child.stagnation, child.own_best = source.age, source.stagnation, source.own_best
        return child

    def _hand_out(self, slots: list[_Slot], focus_id: str | None = None) -> list[SlotDecision]:
        self.generation += 1
        self._pending = {}
        decisions: list[SlotDecision] = []
        for slot in slots:
            ind = slot.individual
            ind.result = None
            ind.epochs = self.config.epochs_per_generation
            if slot.kind == "continue" and ind.individual_id == focus_id:
                ind.epochs += self.config.focus_best
            self._pending[ind.individual_id] = ind
            decisions.append(_decision(slot, dict(ind.genome)))
        return decisions


def _decision(slot: _Slot, genome: Genome) -> SlotDecision:
    ind = slot.individual
    if slot.kind == "continue":
        return Continue(ind.individual_id, genome, ind.epochs)
    if slot.kind == "clone" and slot.source_id is not None:
        return Clone(ind.individual_id, slot.source_id, genome, ind.epochs)
    return Fresh(ind.individual_id, genome, ind.epochs)


def _better(result: IndividualResult, best: IndividualResult | None) -> bool:
    if best is None:
        return True
    if result.higher_is_better:
        return result.value > best.value
    return result.value < best.value
