"""Plots of performance traces and their expected-quality profile, as PNG bytes.

Uses matplotlib's object API with the Agg canvas (no pyplot global state, safe in
servers and threads).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dynas_service.search.profile import expected_quality
from dynas_service.search.trace import PerformanceTrace

if TYPE_CHECKING:
    from matplotlib.axes import Axes

TraceGroups = Mapping[str, Sequence[PerformanceTrace]]


def plot_traces(
    traces: Sequence[PerformanceTrace] | TraceGroups,
    *,
    title: str = "",
    ylabel: str = "best validation metric",
    t_max: float | None = None,
    width_px: int = 800,
    height_px: int = 500,
) -> bytes:
    """A PNG: each trace as a faint step line, each group's expected quality in bold.

    ``traces`` is one list of runs or a mapping ``label -> runs`` (e.g. per algorithm).
    Time axis in seconds up to ``t_max`` (default: the latest point of any trace).
    """
    groups = dict(traces) if isinstance(traces, Mapping) else {"": list(traces)}
    groups = {label: list(runs) for label, runs in groups.items() if runs}
    # Imported here: matplotlib costs ~0.4 s, and every trial worker imports this package.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    end = t_max if t_max is not None else _latest_time(groups)
    for i, (label, runs) in enumerate(groups.items()):
        color = f"C{i % 10}"
        for run in runs:
            _step(ax, run, end, color=color, alpha=0.25, linewidth=0.8)
        times = _profile_times(runs, end)
        if times.size:
            mean = expected_quality(runs, times)
            ax.step(
                times,
                mean,
                where="post",
                color=color,
                linewidth=2.0,
                label=f"{label} (mean)" if label else "expected quality",
            )
    ax.set_xlabel("time (s)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
    ax.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _latest_time(groups: TraceGroups) -> float:
    times = [t for runs in groups.values() for run in runs for t, _ in run.points]
    return max(times, default=1.0) or 1.0


def _profile_times(runs: Sequence[PerformanceTrace], end: float) -> np.ndarray:
    times = sorted({t for run in runs for t, _ in run.points if t <= end} | {end})
    return np.asarray(times if any(run.points for run in runs) else [], dtype=float)


def _step(ax: Axes, run: PerformanceTrace, end: float, **style: Any) -> None:
    points = [(t, v) for t, v in run.points if t <= end]
    if not points:
        return
    xs = [t for t, _ in points] + [end]
    ys = [v for _, v in points] + [points[-1][1]]
    ax.step(xs, ys, where="post", **style)
