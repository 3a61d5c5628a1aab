"""The markdown report (``report.md``) and machine-readable summary (``summary.json``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.anytime.aggregate import DatasetSummary, MethodSummary, ahead_of_all
from benchmarks.anytime.methods import DYNAS_DEFAULT, STOCK_METHODS


def fmt(summary: DatasetSummary, value: float) -> str:
    """Accuracy in percent, rmse with three decimals."""
    if not math.isfinite(value):
        return "—"
    return f"{100 * value:.1f}" if summary.higher_is_better else f"{value:.3f}"


def _t(t: float) -> str:
    return f"{t:g} s"


def _row(summary: DatasetSummary, m: MethodSummary, best: Mapping[float, float]) -> str:
    cells = [f"`{m.method}`", f"{m.first_result_s:.1f}" if math.isfinite(m.first_result_s) else "—"]
    for t in summary.times:
        text = fmt(summary, m.quality[t])
        if m.n_runs > 1:
            text += f" ±{fmt(summary, m.quality_sd[t])}"
        cells.append(f"**{text}**" if m.quality[t] == best[t] else text)
    cells += [
        fmt(summary, m.mean_quality),
        f"{100 * m.overhead:.0f} %",
        f"{m.epochs:.0f}",
        f"{m.trials:.0f}",
        str(m.errors) if m.errors else "",
    ]
    return "| " + " | ".join(cells) + " |"


def dataset_table(summary: DatasetSummary) -> list[str]:
    """One markdown table: a row per method, quality at each report time and totals."""
    unit = "accuracy %" if summary.higher_is_better else "rmse"
    pick = max if summary.higher_is_better else min
    best = {t: pick(m.quality[t] for m in summary.methods.values()) for t in summary.times}
    head = [
        "method",
        "first result (s)",
        *(f"{unit} @ {_t(t)}" for t in summary.times),
        "mean over budget",
        "overhead",
        "epochs",
        "trials",
        "failed",
    ]
    lines = [
        f"### {summary.dataset} ({summary.metric_name}, budget {summary.budget_s:g} s, "
        f"{max(m.n_runs for m in summary.methods.values())} seed(s))",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += [_row(summary, m, best) for m in summary.methods.values()]
    verdict = ahead_of_all(summary, DYNAS_DEFAULT, STOCK_METHODS)
    if verdict:
        hits = [_t(t) for t, ok in zip(summary.times, verdict, strict=True) if ok]
        lines += [
            "",
            f"`{DYNAS_DEFAULT}` ahead of every stock method at "
            f"{sum(verdict)}/{len(verdict)} report times "
            f"({', '.join(hits) or 'none'}).",
        ]
    return lines


def render(summaries: Mapping[str, DatasetSummary], meta: Mapping[str, Any]) -> str:
    """The whole report: settings, machine, versions, then a table per dataset."""
    cfg = meta["config"]
    lines = [
        f"Command: `{meta['command']}`",
        "",
        f"Started {meta['started']}, took {meta['elapsed_min']:.1f} min. Machine: "
        f"{meta['machine']['cpu']}, {meta['machine']['logical_cpus']} logical CPUs, "
        f"{meta['machine']['memory_gb']} GB, GPU: {meta['machine']['gpu']}; load averages "
        f"(1/5/15 min) at start and end of each invocation: {meta.get('loads', [])} (other "
        "processes shared the machine when these exceed the CPUs used). "
        f"Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
        "",
        f"Every run: {cfg['cpus']} CPUs (one trial per CPU, one torch thread per trial), "
        f"budget {cfg['budget_s']:g} s wall clock, seeds {cfg['seeds']}, the same "
        f"train/validation split per seed for every method; stock trials capped at "
        f"{cfg['max_epochs']} epochs; static models use regularizer "
        f"`{cfg['static_regularizer']}`. Quality = best validation metric found so far "
        "(mean over seeds ± sd); a run with no result yet counts as the dataset's worst "
        "first result. *Mean over budget* = area under the expected-quality curve / budget. "
        "*Overhead* = share of wall × CPUs not spent inside epochs (startup, scheduling, "
        "checkpoints, idle cores).",
        "",
    ]
    for summary in summaries.values():
        lines += dataset_table(summary)
        lines += [
            "",
            f"![{summary.dataset} traces](traces-{summary.dataset}.png) "
            f"![{summary.dataset} profiles](profile-{summary.dataset}.png)",
            "",
        ]
    return "\n".join(lines)


def summary_json(summaries: Mapping[str, DatasetSummary]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, s in summaries.items():
        out[name] = {
            "metric": s.metric_name,
            "budget_s": s.budget_s,
            "initial": s.initial,
            "times": s.times,
            "methods": {
                m: {
                    **vars(ms),
                    "quality": {str(k): v for k, v in ms.quality.items()},
                    "quality_sd": {str(k): v for k, v in ms.quality_sd.items()},
                }
                for m, ms in s.methods.items()
            },
            "dynas_default_ahead": ahead_of_all(s, DYNAS_DEFAULT, STOCK_METHODS),
        }
    return out


def write_report(
    out_dir: Path, summaries: Mapping[str, DatasetSummary], meta: Mapping[str, Any]
) -> Path:
    """Write ``report.md``, ``summary.json`` and the PNGs; returns the report's path."""
    from benchmarks.anytime.plots import write_profile_plot, write_trace_plot

    for summary in summaries.values():
        write_trace_plot(summary, out_dir / f"traces-{summary.dataset}.png")
        write_profile_plot(summary, out_dir / f"profile-{summary.dataset}.png")
    (out_dir / "summary.json").write_text(json.dumps(summary_json(summaries), indent=1))
    path = out_dir / "report.md"
    path.write_text(render(summaries, meta))
    return path
