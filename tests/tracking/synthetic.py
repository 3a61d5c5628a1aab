"""A synthetic event stream shaped like an evolution: fresh individuals, clones with
parents, continued individuals, per-epoch records with growing/shrinking layers, bests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo

Event = IndividualInfo | EpochRecord | BestRecord
#: Writes the best model of (individual_id, version) to a zip and returns its path.
ModelWriter = Callable[[str, int, list[int]], str]


@dataclass
class Evolution:
    """Generation plans: per generation, per slot ``(individual, origin, parent or None)``."""

    plans: list[list[tuple[str, str, str | None]]]
    epochs_per_generation: int = 3
    seed: int = 0
    clones: dict[str, str] = field(default_factory=dict)  # clone -> parent (from plans)

    def __post_init__(self) -> None:
        for plan in self.plans:
            for ind, origin, parent in plan:
                if origin == "clone" and parent is not None:
                    self.clones[ind] = parent


def small_evolution(epochs_per_generation: int = 3) -> Evolution:
    """3 slots, 3 generations: fresh i0..i2; then i0 continues, i3 clones i0, i4 fresh;
    then i0 continues, i5 clones i3, i4 continues."""
    return Evolution(
        plans=[
            [("i0", "fresh", None), ("i1", "fresh", None), ("i2", "fresh", None)],
            [("i0", "continue", None), ("i3", "clone", "i0"), ("i4", "fresh", None)],
            [("i0", "continue", None), ("i5", "clone", "i3"), ("i4", "continue", None)],
        ],
        epochs_per_generation=epochs_per_generation,
    )


def events(evo: Evolution, write_model: ModelWriter | None = None) -> Iterator[Event]:
    """The events in the order the engine emits them (slots interleaved per epoch)."""
    rng = np.random.default_rng(evo.seed)
    t, best, version = 0.0, -1.0, 0
    sizes: dict[str, list[int]] = {}
    ages: dict[str, int] = {}
    for plan in evo.plans:
        for slot, (ind, origin, parent) in enumerate(plan):
            if origin == "clone" and parent is not None:
                sizes[ind], ages[ind] = list(sizes[parent]), ages[parent]
            sizes.setdefault(ind, [int(x) for x in rng.integers(8, 40, size=2)])
            ages.setdefault(ind, 0)
            hp = {"learning_rate": float(rng.uniform(1e-4, 1e-2)), "batch_size": 32}
            yield IndividualInfo(ind, f"trial_{slot}", parent, origin, hp, t)  # type: ignore[arg-type]
        for epoch in range(evo.epochs_per_generation):
            for slot, (ind, _origin, _parent) in enumerate(plan):
                t += 0.25
                ages[ind] += 1
                sizes[ind] = [max(1, n + int(rng.integers(-5, 8))) for n in sizes[ind]]
                acc = float(min(0.99, 0.5 + 0.03 * ages[ind] + rng.uniform(-0.05, 0.05)))
                n_params = sum(sizes[ind]) * 10
                yield EpochRecord(
                    ind,
                    f"trial_{slot}",
                    epoch,
                    ages[ind],
                    t,
                    "accuracy",
                    acc,
                    float(rng.uniform(0.1, 1)),
                    float(rng.uniform(0.1, 1)),
                    1e-3,
                    list(sizes[ind]),
                    n_params,
                    0.25,
                )
                if acc > best:
                    best, version = acc, version + 1
                    path = write_model(ind, version, sizes[ind]) if write_model else "missing.zip"
                    yield BestRecord(
                        "accuracy",
                        acc,
                        True,
                        f"trial_{slot}",
                        ind,
                        epoch,
                        t,
                        {"learning_rate": 1e-3},
                        list(sizes[ind]),
                        n_params,
                        path,
                        version,
                    )


def feed(observer: object, stream: list[Event]) -> None:
    """Call the observer's method for each event."""
    for event in stream:
        if isinstance(event, IndividualInfo):
            observer.on_individual_start(event)  # type: ignore[attr-defined]
        elif isinstance(event, EpochRecord):
            observer.on_epoch(event)  # type: ignore[attr-defined]
        else:
            observer.on_best(event)  # type: ignore[attr-defined]
