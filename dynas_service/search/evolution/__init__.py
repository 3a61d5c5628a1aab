"""Anytime hyperparameter evolution: config, genome operations, selection, penalty."""

from dynas_service.search.evolution.algorithm import Evolution, Individual
from dynas_service.search.evolution.config import (
    THESIS_INITIAL_GENOME,
    THESIS_MUTATION_SIGMA,
    EvolutionConfig,
)
from dynas_service.search.evolution.genome import Genome, initial_genome, mutate, recombine
from dynas_service.search.evolution.penalty import age_penalty, fitness
from dynas_service.search.evolution.selection import tournament_select

__all__ = [
    "THESIS_INITIAL_GENOME",
    "THESIS_MUTATION_SIGMA",
    "Evolution",
    "EvolutionConfig",
    "Genome",
    "Individual",
    "age_penalty",
    "fitness",
    "initial_genome",
    "mutate",
    "recombine",
    "tournament_select",
]
