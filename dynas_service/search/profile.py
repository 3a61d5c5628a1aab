"""Performance profiles over runs (thesis 2.1.2) and one number to compare algorithms.

``P(t, q)``: fraction of runs whose best-so-far reached quality ``q`` by time ``t``
("reached" = at least ``q`` for higher-is-better metrics, at most ``q`` otherwise).
Expected quality: mean over runs of ``K_r(t)``; a run with no value yet at ``t``
contributes ``initial``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dynas_service.search.trace import PerformanceTrace


def _direction(traces: Sequence[PerformanceTrace]) -> bool:
    if not traces:
        raise ValueError("need at least one trace, got none")
    directions = {t.higher_is_better for t in traces}
    if len(directions) != 1:
        raise ValueError(f"traces mix metric directions {sorted(directions)}")
    return directions.pop()


def _values(
    traces: Sequence[PerformanceTrace], times: Sequence[float] | np.ndarray, fill: float
) -> np.ndarray:
    """(runs, times) matrix of ``K_r(t)`` with ``fill`` before a run's first value."""
    rows = []
    for trace in traces:
        rows.append([fill if (v := trace.value_at(float(t))) is None else v for t in times])
    return np.asarray(rows, dtype=float).reshape(len(traces), len(times))


def performance_profile(
    traces: Sequence[PerformanceTrace], times: Sequence[float] | np.ndarray, q: float
) -> np.ndarray:
    """``P(t, q)`` for each ``t`` in ``times``: an array of fractions in [0, 1]."""
    higher = _direction(traces)
    values = _values(traces, times, np.nan)
    with np.errstate(invalid="ignore"):
        reached = values >= q if higher else values <= q
    return np.asarray(reached.mean(axis=0), dtype=float)


def _default_initial(traces: Sequence[PerformanceTrace], higher: bool) -> float:
    """The worst first value of any trace (a pessimistic "nothing found yet")."""
    firsts = [t.points[0][1] for t in traces if t.points]
    if not firsts:
        return float("nan")
    return min(firsts) if higher else max(firsts)


def expected_quality(
    traces: Sequence[PerformanceTrace],
    times: Sequence[float] | np.ndarray,
    *,
    initial: float | None = None,
) -> np.ndarray:
    """Mean over runs of ``K_r(t)`` at each ``t``.

    ``initial`` stands in for a run that has no value yet; ``None`` uses the worst first
    value among the traces (pass it explicitly to compare different sets of runs).
    """
    higher = _direction(traces)
    fill = _default_initial(traces, higher) if initial is None else float(initial)
    return np.asarray(_values(traces, times, fill).mean(axis=0), dtype=float)


def area_under_expected_quality(
    traces: Sequence[PerformanceTrace], t0: float, t1: float, *, initial: float | None = None
) -> float:
    """Exact integral of the expected-quality step function over ``[t0, t1]`` (quality * s).

    Divide by ``t1 - t0`` for the mean quality over the window. For lower-is-better
    metrics a smaller area is better.
    """
    if not t0 < t1:
        raise ValueError(f"need t0 < t1, got {t0=}, {t1=}")
    higher = _direction(traces)
    fill = _default_initial(traces, higher) if initial is None else float(initial)
    inner = {t for trace in traces for t, _ in trace.points if t0 < t < t1}
    edges = np.asarray(sorted({float(t0), float(t1), *inner}))
    levels = _values(traces, edges[:-1], fill).mean(axis=0)
    return float(np.sum(levels * np.diff(edges)))
