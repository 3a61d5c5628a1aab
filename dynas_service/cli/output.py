"""Human-readable rendering of the API's JSON for the terminal (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def duration(seconds: float | None) -> str:
    """``75.4`` -> ``"01:15"``, ``3725`` -> ``"1:02:05"``, ``None`` -> ``"-"``."""
    if seconds is None:
        return "-"
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def number(value: Any) -> str:
    """A metric value with 4 significant decimals; anything else as ``str``."""
    if isinstance(value, float):
        tiny_or_huge = abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3)
        return f"{value:.4g}" if tiny_or_huge else f"{value:.4f}"
    return "-" if value is None else str(value)


def best_short(best: Mapping[str, Any] | None) -> str:
    """``"accuracy=0.9810"`` or ``"-"`` while no epoch has finished."""
    if not best:
        return "-"
    return f"{best.get('metric', 'metric')}={number(best.get('value'))}"


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """Left-aligned columns separated by two spaces."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def jobs_table(jobs: Sequence[Mapping[str, Any]]) -> str:
    """The ``dynas list`` table, newest first as the server sends them."""
    if not jobs:
        return "no jobs yet: submit one with `dynas submit --dataset digits`"
    rows = []
    for job in jobs:
        spec = job.get("spec") or {}
        rows.append(
            [
                str(job.get("id", "")),
                str(job.get("name") or ""),
                str(job.get("status", "")),
                str(spec.get("dataset", "")),
                str(spec.get("algorithm", "")),
                duration(job.get("elapsed_s")),
                best_short(job.get("best")),
            ]
        )
    return table(rows, ["ID", "NAME", "STATUS", "DATASET", "ALGORITHM", "ELAPSED", "BEST"])


def job_details(job: Mapping[str, Any]) -> str:
    """The ``dynas status`` page."""
    spec = job.get("spec") or {}
    trials = job.get("trials") or {}
    budget = spec.get("budget") or {}
    lines = [
        f"job        {job.get('id')}  ({job.get('name') or 'unnamed'})",
        f"status     {job.get('status')}",
        f"dataset    {spec.get('dataset', '-')}   algorithm {spec.get('algorithm', '-')}",
        f"elapsed    {duration(job.get('elapsed_s'))} / {budget_text(budget)}",
        f"trials     {trials.get('running', 0)} running, {trials.get('finished', 0)} finished,"
        f" {trials.get('total', 0)} total",
        f"created    {job.get('created_at') or '-'}",
        f"started    {job.get('started_at') or '-'}",
        f"finished   {job.get('finished_at') or '-'}",
    ]
    if job.get("epochs_trained") is not None:
        lines.append(f"epochs     {job['epochs_trained']} trained")
    if job.get("mlflow_run_id"):
        lines.append(f"mlflow run {job['mlflow_run_id']}")
    if job.get("error"):
        lines.append(f"error      {job['error']}")
    best = job.get("best")
    lines.append("best       " + (best_line(best) if best else "none yet"))
    return "\n".join(lines)


def budget_text(budget: Mapping[str, Any]) -> str:
    """``"10:00"``, ``"20 trials"``, ``"10:00 or 20 trials"`` or ``"no limit"``."""
    parts = []
    if budget.get("seconds") is not None:
        parts.append(duration(budget["seconds"]))
    if budget.get("trials") is not None:
        parts.append(f"{budget['trials']} trials")
    return " or ".join(parts) or "no limit"


def best_line(best: Mapping[str, Any]) -> str:
    """One line: metric, where it was found, layer sizes."""
    return (
        f"{best_short(best)} (trial {best.get('trial_id')}, epoch {best.get('epoch')},"
        f" at {duration(best.get('found_at_s'))}) layers {best.get('layer_sizes')}"
    )


def best_details(best: Mapping[str, Any]) -> str:
    """The ``dynas best`` page."""
    direction = "higher" if best.get("higher_is_better", True) else "lower"
    hyper = best.get("hyperparameters") or {}
    lines = [
        f"{best.get('metric')}      {number(best.get('value'))}  ({direction} is better)",
        f"trial         {best.get('trial_id')}  epoch {best.get('epoch')}",
        f"found at      {duration(best.get('found_at_s'))}",
        f"layer sizes   {best.get('layer_sizes')}",
        f"parameters    {best.get('parameters')}",
    ]
    lines += [f"  {key} = {number(value)}" for key, value in hyper.items()]
    return "\n".join(lines)


def datasets_table(datasets: Sequence[Mapping[str, Any]]) -> str:
    """The ``dynas datasets list`` table."""
    rows = [
        [
            str(d.get("id", "")),
            str(d.get("name", "")),
            str(d.get("task", "")),
            str(d.get("n_samples", "")),
            str(d.get("input_shape", "")),
            str(d.get("n_classes") if d.get("n_classes") is not None else "-"),
        ]
        for d in datasets
    ]
    if not rows:
        return "no uploaded datasets (built-ins such as digits need no upload)"
    return table(rows, ["ID", "NAME", "TASK", "SAMPLES", "INPUT SHAPE", "CLASSES"])


def trials_table(trials: Sequence[Mapping[str, Any]]) -> str:
    """The ``dynas trials`` table."""
    rows = [
        [
            str(t.get("id", t.get("trial_id", ""))),
            str(t.get("status", "")),
            str(t.get("epochs", "")),
            number(t.get("best_metric")),
            number(t.get("last_metric")),
            str(t.get("layer_sizes", "")),
            str(t.get("parent_trial_id") or "-"),
        ]
        for t in trials
    ]
    if not rows:
        return "no trials yet"
    return table(rows, ["TRIAL", "STATUS", "EPOCHS", "BEST", "LAST", "LAYERS", "PARENT"])


def predictions_text(result: Mapping[str, Any]) -> str:
    """One line per input row: index, prediction, its label and probability when sent."""
    predictions = result.get("predictions") or []
    probabilities = result.get("probabilities")
    labels = result.get("labels")
    lines = []
    for index, prediction in enumerate(predictions):
        line = f"{index}\t{prediction}"
        if labels and len(labels) == len(predictions):
            line += f"\t{labels[index]}"
        if probabilities:
            line += f"  (p={max(probabilities[index]):.3f})"
        lines.append(line)
    return "\n".join(lines)


def health_text(report: Mapping[str, Any]) -> str:
    """``status: ok  ray: ok (127.0.0.1:6379)  mlflow: ok (sqlite:///...)``."""
    parts = []
    for key, value in report.items():
        if isinstance(value, Mapping):
            details = [str(v) for k, v in value.items() if k != "status" and v is not None]
            text = str(value.get("status", "?"))
            value = f"{text} ({', '.join(details)})" if details else text
        parts.append(f"{key}: {value}")
    return "  ".join(parts)
