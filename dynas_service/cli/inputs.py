"""Reading user files for the CLI: JobSpec files, flag overrides, prediction inputs."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Flag name -> path inside the JobSpec (see docs/api-contract.md).
SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    "dataset": ("dataset",),
    "name": ("name",),
    "algorithm": ("algorithm",),
    "seed": ("seed",),
    "sample": ("sample",),
    "validation_fraction": ("validation_fraction",),
    "family": ("model", "family"),
    "dynamic": ("model", "dynamic"),
    "hidden_layers": ("model", "hidden_layers"),
    "initial_units": ("model", "initial_units"),
    "regularizer": ("model", "regularizer"),
    "seconds": ("budget", "seconds"),
    "trials": ("budget", "trials"),
    "cpus_per_trial": ("resources", "cpus_per_trial"),
    "gpus_per_trial": ("resources", "gpus_per_trial"),
    "max_concurrent_trials": ("resources", "max_concurrent_trials"),
}


def load_spec_file(path: Path) -> dict[str, Any]:
    """A JobSpec from ``.json`` or ``.yaml``/``.yml``; ``ValueError`` if it is not a mapping."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # lazily: only spec files need it

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"spec file {path.name!r} is not valid YAML: {exc}") from exc
    elif path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"spec file {path.name!r} is not valid JSON: {exc}") from exc
    else:
        raise ValueError(f"spec file must end in .json, .yaml or .yml, got {path.name!r}")
    if not isinstance(data, dict):
        raise ValueError(f"spec file {path.name!r} must hold a mapping (a JobSpec object)")
    return data


def merge_spec(
    base: Mapping[str, Any],
    flags: Mapping[str, Any],
    options: Sequence[str] = (),
    *,
    no_time_limit: bool = False,
) -> dict[str, Any]:
    """``base`` (a spec file or ``{}``) with every flag that was given (not ``None``) on top.

    Only fields the user named are sent, so the server fills in the method's defaults.
    ``options`` are ``key=value`` algorithm options (values parsed as JSON when they can be).
    ``no_time_limit`` sends ``budget.seconds = null`` explicitly.
    """
    spec = json.loads(json.dumps(dict(base)))  # a deep copy of plain JSON data
    for flag, value in flags.items():
        if value is None:
            continue
        if flag not in SPEC_FIELDS:
            raise ValueError(f"unknown spec flag {flag!r}")
        _set_path(spec, SPEC_FIELDS[flag], value)
    if no_time_limit:
        _set_path(spec, ("budget", "seconds"), None)
    if options:
        algorithm_options = spec.setdefault("algorithm_options", {})
        algorithm_options.update(parse_options(options))
    if not spec.get("dataset"):
        raise ValueError("a job needs a dataset: give --dataset NAME_OR_ID or a --spec file")
    return spec


def _set_path(spec: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = spec
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def parse_options(options: Sequence[str]) -> dict[str, Any]:
    """``["population_size=8", "mode=fast"]`` -> ``{"population_size": 8, "mode": "fast"}``."""
    parsed: dict[str, Any] = {}
    for item in options:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option must look like key=value, got {item!r}")
        try:
            parsed[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key.strip()] = raw
    return parsed


def load_inputs(path: Path) -> list[Any]:
    """Prediction inputs (raw features, or images as nested lists) from json, csv or npy.

    json: a list of rows or ``{"inputs": [...]}``; csv: numeric rows, an optional header
    line is skipped; npy: loaded with ``allow_pickle=False``.
    """
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name!r} is not valid JSON: {exc}") from exc
        rows = data.get("inputs") if isinstance(data, dict) else data
    elif suffix == ".csv":
        rows = _read_csv_rows(path)
    elif suffix == ".npy":
        import numpy as np  # lazily: only npy inputs need it

        rows = np.load(path, allow_pickle=False).tolist()
    else:
        raise ValueError(f"--input must be a .json, .csv or .npy file, got {path.name!r}")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{path.name!r} holds no input rows (expected a non-empty list)")
    return rows


def _read_csv_rows(path: Path) -> list[list[float]]:
    with path.open(newline="", encoding="utf-8") as handle:
        lines = [row for row in csv.reader(handle) if row and any(c.strip() for c in row)]
    if lines and not _is_numeric(lines[0]):
        lines = lines[1:]  # a header
    rows = []
    for number, row in enumerate(lines, start=1):
        if not _is_numeric(row):
            raise ValueError(f"{path.name!r}: data row {number} is not all numbers: {row!r}")
        rows.append([float(cell) for cell in row])
    return rows


def _is_numeric(row: Sequence[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True
