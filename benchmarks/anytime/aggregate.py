"""From run records to per-method numbers: quality over time, profiles, area, overhead.

All methods of a dataset are compared with one ``initial`` value (the quality of "no
model yet"): the worst first result of any run on that dataset, so a method that has
nothing yet is not rewarded, and every method's curve uses the same floor.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.anytime.records import RunRecord
from dynas_service.search import (
    PerformanceTrace,
    area_under_expected_quality,
    expected_quality,
)


@dataclass
class MethodSummary:
    """One method on one dataset, over its seeds.

    ``quality[t]``: expected quality (mean of best-so-far over runs) at report time ``t``;
    ``quality_sd[t]``: its standard deviation over runs; ``mean_quality``: area under the
    expected-quality curve over ``[0, budget]`` divided by the budget; ``overhead``: mean
    share of ``wall x CPUs`` not spent inside epochs; ``first_result_s``: median time of a
    run's first finished epoch.
    """

    method: str
    framework: str
    n_runs: int
    quality: dict[float, float] = field(default_factory=dict)
    quality_sd: dict[float, float] = field(default_factory=dict)
    mean_quality: float = math.nan
    overhead: float = math.nan
    first_result_s: float = math.nan
    epochs: float = 0.0
    trials: float = 0.0
    errors: int = 0


@dataclass
class DatasetSummary:
    """Every method on one dataset, with the shared settings of the comparison."""

    dataset: str
    metric_name: str
    higher_is_better: bool
    budget_s: float
    initial: float
    times: list[float]
    methods: dict[str, MethodSummary]
    traces: dict[str, list[PerformanceTrace]]

    def better(self, a: float, b: float) -> bool:
        return a > b if self.higher_is_better else a < b


def load_records(out_dir: Path) -> list[RunRecord]:
    """Every ``runs/<dataset>/<method>/seed<k>.json`` under ``out_dir``."""
    return [RunRecord.load(p) for p in sorted((out_dir / "runs").glob("*/*/seed*.json"))]


def _initial(records: Sequence[RunRecord], higher: bool) -> float:
    firsts = [r.trace().points[0][1] for r in records if r.trace().points]
    if not firsts:
        return math.nan
    return min(firsts) if higher else max(firsts)


def summarize_method(
    runs: Sequence[RunRecord], times: Sequence[float], initial: float
) -> MethodSummary:
    """:class:`MethodSummary` of one method's runs (same dataset and budget)."""
    traces = [r.trace() for r in runs]
    budget = runs[0].budget_s
    per_run = np.array([[_at(tr, t, initial) for t in times] for tr in traces])
    eq = expected_quality(traces, times, initial=initial)
    area = area_under_expected_quality(traces, 0.0, budget, initial=initial)
    firsts = [r.epochs[0].t for r in runs if r.epochs]
    return MethodSummary(
        method=runs[0].method,
        framework=runs[0].framework,
        n_runs=len(runs),
        quality={t: float(v) for t, v in zip(times, eq, strict=True)},
        quality_sd={t: float(per_run[:, i].std()) for i, t in enumerate(times)},
        mean_quality=area / budget,
        overhead=float(np.nanmean([r.overhead() for r in runs])),
        first_result_s=float(np.median(firsts)) if firsts else math.nan,
        epochs=float(np.mean([len(r.epochs) for r in runs])),
        trials=float(np.mean([r.n_trials for r in runs])),
        errors=sum(r.error is not None for r in runs),
    )


def _at(trace: PerformanceTrace, t: float, initial: float) -> float:
    value = trace.value_at(t)
    return initial if value is None else value


def summarize(
    records: Sequence[RunRecord],
    times_for: dict[float, list[float]] | None = None,
) -> dict[str, DatasetSummary]:
    """Per dataset: each method's summary. ``times_for`` maps a budget to report times."""
    from benchmarks.anytime.config import report_times

    by_dataset: dict[str, dict[str, list[RunRecord]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        by_dataset[record.dataset][record.method].append(record)
    summaries: dict[str, DatasetSummary] = {}
    for dataset, methods in by_dataset.items():
        runs = [r for group in methods.values() for r in group]
        higher = runs[0].higher_is_better
        budget = min(r.budget_s for r in runs)
        times = (times_for or {}).get(budget) or report_times(budget)
        initial = _initial(runs, higher)
        summaries[dataset] = DatasetSummary(
            dataset=dataset,
            metric_name=runs[0].metric_name,
            higher_is_better=higher,
            budget_s=budget,
            initial=initial,
            times=times,
            methods={m: summarize_method(g, times, initial) for m, g in methods.items()},
            traces={m: [r.trace(until=budget) for r in g] for m, g in methods.items()},
        )
    return summaries


def ahead_of_all(summary: DatasetSummary, method: str, rivals: Sequence[str]) -> list[bool]:
    """At each report time: is ``method``'s expected quality strictly better than every
    rival's that ran on this dataset?"""
    mine = summary.methods.get(method)
    present = [summary.methods[r] for r in rivals if r in summary.methods]
    if mine is None or not present:
        return []
    return [
        all(summary.better(mine.quality[t], r.quality[t]) for r in present) for t in summary.times
    ]


def quality_targets(summary: DatasetSummary) -> list[float]:
    """Quality levels for P(t, q): the median and the 90 % best final run result (one if
    they coincide), the easier first."""
    finals = [tr.best for group in summary.traces.values() for tr in group if tr.best is not None]
    if not finals:
        return []
    good = 90 if summary.higher_is_better else 10
    levels = [float(np.percentile(finals, 50)), float(np.percentile(finals, good))]
    return sorted(set(levels), reverse=not summary.higher_is_better)
