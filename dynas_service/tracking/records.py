"""Pure conversions from the engine's event records to MLflow params, tags and metrics.

Every name written to MLflow is decided here, so the tests and the UI agree on one vocabulary:

- child run (one per individual): metrics ``<metric_name>`` (e.g. ``accuracy``),
  ``train_loss``, ``val_loss``, ``reg_strength``, ``parameters``, ``epoch_seconds`` and
  ``units/layer_<i>``, each at ``step = age`` (epochs of the individual, inherited through
  clones); params = the genome; tags in :data:`TAG`.
- parent run (one per job): ``best_<metric_name>`` (the performance trace),
  ``best/parameters`` and ``best/units/layer_<i>`` at ``step = whole seconds since the job
  started``; every metric's timestamp is the job start plus the event's time, so the UI's
  "relative time" axis shows exact elapsed seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mlflow.entities import Metric, Param, RunTag

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo

#: Tag keys written by the tracking package.
TAG = {
    "job_id": "dynas.job_id",
    "job_name": "dynas.job_name",
    "algorithm": "dynas.algorithm",
    "dataset": "dynas.dataset",
    "individual_id": "dynas.individual_id",
    "trial_id": "dynas.trial_id",
    "origin": "dynas.origin",
    "cloned_from": "dynas.cloned_from",
    "cloned_from_run_id": "dynas.cloned_from_run_id",
    "best_individual_id": "dynas.best_individual_id",
    "best_run_id": "dynas.best_run_id",
    "best_layer_sizes": "dynas.best_layer_sizes",
    "best_value": "dynas.best_value",
    "status": "dynas.status",
    "error": "dynas.error",
    "mlflow_parent": "mlflow.parentRunId",
    "run_name": "mlflow.runName",
}

MAX_PARAM_VALUE = 6000
MAX_KEY = 250
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-. /:]")


def clean_key(key: str) -> str:
    """``key`` with characters MLflow rejects replaced by ``_``, cut to 250 characters."""
    cleaned = _BAD_KEY_CHARS.sub("_", key).strip() or "_"
    return cleaned[:MAX_KEY]


def _value_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_PARAM_VALUE]


def flatten_params(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts flattened to ``a.b.c`` keys; lists and scalars as JSON text."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten_params(value, prefix=f"{name}."))
        elif value is not None:
            out[clean_key(name)] = _value_text(value)
    return out


def params(data: Mapping[str, Any]) -> list[Param]:
    """MLflow params for a (possibly nested) dict."""
    return [Param(k, v) for k, v in flatten_params(data).items()]


def tags(data: Mapping[str, Any]) -> list[RunTag]:
    """MLflow tags, skipping ``None`` values."""
    return [RunTag(k, _value_text(v)) for k, v in data.items() if v is not None]


def _metric(key: str, value: float, timestamp_ms: int, step: int) -> Metric:
    return Metric(clean_key(key), float(value), timestamp_ms, step)


def timestamp_ms(start_ms: int, t: float) -> int:
    """Wall-clock milliseconds of an event ``t`` seconds after the job started."""
    return start_ms + round(max(t, 0.0) * 1000)


def epoch_metrics(record: EpochRecord, start_ms: int) -> list[Metric]:
    """The child-run metrics of one epoch (see the module docstring for the names)."""
    ts, step = timestamp_ms(start_ms, record.t), int(record.age)
    values: dict[str, float] = {
        record.metric_name: record.value,
        "train_loss": record.train_loss,
        "val_loss": record.val_loss,
        "reg_strength": record.reg_strength,
        "parameters": record.n_parameters,
        "epoch_seconds": record.epoch_seconds,
    }
    values.update({f"units/layer_{i}": n for i, n in enumerate(record.layer_sizes)})
    return [_metric(k, v, ts, step) for k, v in values.items()]


def best_metrics(best: BestRecord, start_ms: int) -> list[Metric]:
    """The parent-run trace point and layer sizes of one improvement of the best."""
    ts, step = timestamp_ms(start_ms, best.found_at_s), int(best.found_at_s)
    values: dict[str, float] = {
        f"best_{best.metric}": best.value,
        "best/parameters": best.parameters,
    }
    values.update({f"best/units/layer_{i}": n for i, n in enumerate(best.layer_sizes)})
    return [_metric(k, v, ts, step) for k, v in values.items()]


def parent_tags(job_id: str, job_name: str, spec: Mapping[str, Any]) -> dict[str, str | None]:
    """Tags of the job's parent run."""
    dataset = spec.get("dataset")
    if isinstance(dataset, Mapping):
        dataset = dataset.get("name") or dataset.get("id")
    return {
        TAG["job_id"]: job_id,
        TAG["job_name"]: job_name,
        TAG["algorithm"]: _opt_text(spec.get("algorithm")),
        TAG["dataset"]: _opt_text(dataset),
    }


def child_tags(
    info: IndividualInfo, job_id: str, parent_run_id: str, cloned_from_run_id: str | None
) -> dict[str, str | None]:
    """Tags of an individual's child run: nesting, identity and lineage."""
    return {
        TAG["mlflow_parent"]: parent_run_id,
        TAG["run_name"]: info.individual_id,
        TAG["job_id"]: job_id,
        TAG["individual_id"]: info.individual_id,
        TAG["trial_id"]: info.trial_id,
        TAG["origin"]: info.origin,
        TAG["cloned_from"]: info.parent_id,
        TAG["cloned_from_run_id"]: cloned_from_run_id,
    }


def best_tags(best: BestRecord, best_run_id: str | None) -> dict[str, str | None]:
    """Tags of the parent run naming the current best."""
    return {
        TAG["best_individual_id"]: best.individual_id,
        TAG["best_run_id"]: best_run_id,
        TAG["best_layer_sizes"]: json.dumps(list(best.layer_sizes)),
        TAG["best_value"]: f"{best.metric}={best.value:.6g}",
    }


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    """Consecutive slices of at most ``size`` items (MLflow's per-request limits)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _opt_text(value: Any) -> str | None:
    return None if value is None else str(value)
