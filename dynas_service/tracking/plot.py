"""The performance trace as a PNG: best-so-far validation metric against elapsed seconds."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

_log = logging.getLogger(__name__)


def trace_png(
    points: Sequence[tuple[float, float]], metric: str, title: str, higher_is_better: bool
) -> bytes:
    """A step plot of ``points`` (``(t seconds, best value)``, in time order) as PNG bytes.

    Drawn by :func:`dynas_service.search.plot_traces` (the service's one trace plot); if that
    fails, by a minimal plot here. Both use the Agg canvas without pyplot's global state, so
    this is safe on a background thread.
    """
    try:
        from dynas_service.search import PerformanceTrace, plot_traces

        trace = PerformanceTrace(higher_is_better)
        for t, value in points:
            trace.record(max(t, 0.0), value)
        return plot_traces([trace], title=title, ylabel=f"best {metric}")
    except Exception:  # a missing or failing shared plot must not lose the picture
        _log.debug("plot_traces failed; using the fallback plot", exc_info=True)
        return _fallback_png(points, metric, title)


def _fallback_png(points: Sequence[tuple[float, float]], metric: str, title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if points:
        ax.step([p[0] for p in points], [p[1] for p in points], where="post", marker="o")
    ax.set_xlabel("elapsed seconds")
    ax.set_ylabel(f"best {metric}")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
