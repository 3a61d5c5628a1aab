"""Genome operations: initial genome, global intermediate recombination, mutation.

A genome is a params dict of the search space. Numeric genes are averaged and mutated in
value space, or in log10 space for log-scaled parameters (the thesis' reg_strength gene is
the exponent g with alpha = 10^-g). Results are clipped (ints rounded) into the space.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from dynas_service.search.evolution.config import EvolutionConfig
from dynas_service.search.space import CategoricalParam, Param, SearchSpace

Genome = dict[str, Any]


def _to_gene(param: Param, value: Any) -> float:
    return math.log10(float(value)) if getattr(param, "log", False) else float(value)


def _from_gene(param: Param, gene: float) -> Any:
    return param.clip(10.0**gene if getattr(param, "log", False) else gene)


def initial_genome(space: SearchSpace, config: EvolutionConfig) -> Genome:
    """The configured start values, clipped; parameters without one start at their centre."""
    return {
        name: param.clip(config.initial_genome[name])
        if name in config.initial_genome
        else param.from_relative(0.5)
        for name, param in space.params.items()
    }


def recombine(
    parents: Sequence[Mapping[str, Any]], space: SearchSpace, rng: np.random.Generator
) -> Genome:
    """Mean of the parents' genes (log10 mean for log params); categoricals: a random parent's."""
    if not parents:
        raise ValueError("recombine needs at least one parent, got none")
    child: Genome = {}
    for name, param in space.params.items():
        if isinstance(param, CategoricalParam):
            child[name] = parents[int(rng.integers(len(parents)))][name]
        else:
            mean = float(np.mean([_to_gene(param, p[name]) for p in parents]))
            child[name] = _from_gene(param, mean)
    return child


def gene_sigma(name: str, param: Param, config: EvolutionConfig) -> float:
    """Mutation std of one numeric gene (log10 units for a log-scaled parameter)."""
    if name in config.mutation_sigma:
        return float(config.mutation_sigma[name])
    if isinstance(param, CategoricalParam):
        raise ValueError(f"categorical gene {name!r} has no sigma")
    width = _to_gene(param, param.high) - _to_gene(param, param.low)
    return config.default_relative_sigma * width


def mutate(
    genome: Mapping[str, Any], space: SearchSpace, config: EvolutionConfig, rng: np.random.Generator
) -> Genome:
    """Add N(0, sigma) per numeric gene and clip; redraw categoricals at the configured rate."""
    child: Genome = {}
    for name, param in space.params.items():
        if isinstance(param, CategoricalParam):
            redraw = rng.random() < config.categorical_mutation_rate
            child[name] = param.sample(rng) if redraw else genome[name]
        else:
            gene = _to_gene(param, genome[name])
            gene += float(rng.normal(0.0, 1.0)) * gene_sigma(name, param, config)
            child[name] = _from_gene(param, gene)
    return child
