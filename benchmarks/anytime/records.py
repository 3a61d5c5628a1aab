"""One run's raw measurements (every finished epoch) and its performance trace, as JSON."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dynas_service.search import PerformanceTrace


@dataclass(frozen=True)
class EpochPoint:
    """A finished epoch: ``t`` s since the run started, its validation metric, its cost."""

    t: float
    value: float
    epoch_seconds: float
    trial: str


@dataclass
class RunRecord:
    """Everything measured for one (method, dataset, seed) run.

    ``wall_s``: seconds from the method's start until it returned (Ray started once per
    process beforehand, not counted); ``epochs``: every finished epoch in arrival order.
    """

    method: str
    framework: str
    dataset: str
    seed: int
    budget_s: float
    cpus: int
    metric_name: str
    higher_is_better: bool
    wall_s: float = 0.0
    epochs: list[EpochPoint] = field(default_factory=list)
    n_trials: int = 0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def trace(self, *, until: float | None = None) -> PerformanceTrace:
        """The best-so-far trace of the epochs finished by ``until`` (default: the budget)."""
        end = self.budget_s if until is None else until
        trace = PerformanceTrace(self.higher_is_better)
        for point in sorted(self.epochs, key=lambda p: p.t):
            if point.t <= end:
                trace.record(max(point.t, 0.0), point.value)
        return trace

    def overhead(self) -> float:
        """Share of ``wall_s * cpus`` not spent inside epochs (framework + idle cores)."""
        if self.wall_s <= 0:
            return math.nan
        busy = sum(p.epoch_seconds for p in self.epochs if p.t <= self.wall_s)
        return 1.0 - busy / (self.wall_s * self.cpus)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trace"] = self.trace().to_dict()["points"]
        data["overhead"] = self.overhead()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        names = cls.__dataclass_fields__.keys()
        fields_ = {k: v for k, v in data.items() if k in names}
        fields_["epochs"] = [EpochPoint(**p) for p in data.get("epochs", [])]
        return cls(**fields_)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, default=_json_default))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        return cls.from_dict(json.loads(path.read_text()))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


class EpochLog:
    """Thread-safe collector of epoch points timed from :meth:`start` (monotonic clock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._points: list[EpochPoint] = []
        self._t0 = time.monotonic()
        self._wall0 = time.time()

    def __getstate__(self) -> dict[str, Any]:
        # Tune pickles its callbacks into the experiment folder; a lock cannot be pickled.
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def start(self) -> None:
        self._t0, self._wall0 = time.monotonic(), time.time()

    @property
    def wall_start(self) -> float:
        """``time.time()`` at start, for processes that stamp epochs with wall time."""
        return self._wall0

    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def add(
        self, value: float, epoch_seconds: float, trial: str, *, t: float | None = None
    ) -> None:
        """Record an epoch finishing now (or at ``t`` s after the start)."""
        point = EpochPoint(
            self.elapsed() if t is None else t, float(value), float(epoch_seconds), str(trial)
        )
        with self._lock:
            self._points.append(point)

    def points(self) -> list[EpochPoint]:
        with self._lock:
            return sorted(self._points, key=lambda p: p.t)
