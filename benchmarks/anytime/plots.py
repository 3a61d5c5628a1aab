"""PNG figures per dataset: traces with expected quality, and performance profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from benchmarks.anytime.aggregate import DatasetSummary, quality_targets
from dynas_service.search import performance_profile, plot_traces


def write_trace_plot(summary: DatasetSummary, path: Path) -> Path:
    """Each run's best-so-far (faint) and each method's expected quality (bold)."""
    groups = {m: [t for t in traces if t.points] for m, traces in summary.traces.items()}
    png = plot_traces(
        {m: g for m, g in groups.items() if g},
        title=f"{summary.dataset}: best validation {summary.metric_name} so far",
        ylabel=f"validation {summary.metric_name}",
        t_max=summary.budget_s,
        width_px=1000,
        height_px=600,
    )
    path.write_bytes(png)
    return path


def write_profile_plot(summary: DatasetSummary, path: Path, points: int = 200) -> Path | None:
    """``P(t, q)`` per method for the median and the 90 % best final quality."""
    targets = quality_targets(summary)
    if not targets:
        return None
    times = np.linspace(0.0, summary.budget_s, points)
    fig = Figure(figsize=(6.0 * len(targets), 4.5), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(targets), squeeze=False)[0]
    sign = ">=" if summary.higher_is_better else "<="
    for ax, q in zip(axes, targets, strict=True):
        for i, (method, traces) in enumerate(summary.traces.items()):
            if traces:
                profile = performance_profile(traces, times, q)
                ax.step(times, profile, where="post", color=f"C{i % 10}", label=method)
        ax.set_title(f"{summary.dataset}: P(t, {summary.metric_name} {sign} {q:.4g})")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("fraction of runs")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(True, alpha=0.3)
    axes[0].legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
