"""Which ``algorithm_options`` each algorithm accepts, read from the search package itself.

The options of an algorithm are the keyword arguments of its search class (``seed`` and
the space excluded) or, for the evolution, the fields of ``EvolutionConfig``; values are
checked by building that object, so the service rejects exactly what the engine would.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

_NOT_OPTIONS = {"self", "space", "seed", "config", "rng", "generator"}


def _search_classes() -> dict[str, Callable[..., Any]]:
    from dynas_service import search

    return {
        "random": search.RandomSearch,
        "grid": search.AnytimeGridSearch,
        "progressive": search.ProgressiveGrowth,
        "evolution": search.EvolutionConfig,
    }


def option_names(algorithm: str) -> list[str]:
    """Accepted option names of ``algorithm`` (a ValueError names unknown algorithms)."""
    classes = _search_classes()
    if algorithm not in classes:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(classes)}")
    target = classes[algorithm]
    if dataclasses.is_dataclass(target):
        return [f.name for f in dataclasses.fields(target) if f.init]
    parameters = inspect.signature(target).parameters.values()
    return [p.name for p in parameters if p.name not in _NOT_OPTIONS and p.kind != p.VAR_KEYWORD]


def check_algorithm_options(algorithm: str, options: dict[str, Any]) -> None:
    """Raise ValueError naming an unknown option or a value the algorithm rejects."""
    if not options:
        return
    names = option_names(algorithm)
    for key in options:
        if key not in names:
            raise ValueError(
                f"unknown option {key!r} for algorithm {algorithm!r}; "
                f"allowed: {', '.join(names) or 'none'}"
            )
    try:
        build_with_options(algorithm, options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"invalid options for {algorithm!r}: {error}") from error


def build_with_options(algorithm: str, options: dict[str, Any]) -> Any:
    """Build the algorithm's class with ``options`` (a tiny default space for searches)."""
    from dynas_service.search import FloatParam, SearchSpace

    target = _search_classes()[algorithm]
    if dataclasses.is_dataclass(target):
        return target(**options)
    space = SearchSpace({"learning_rate": FloatParam(1e-4, 6e-4)})
    return target(space, seed=0, **options)
