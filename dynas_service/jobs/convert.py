"""From the REST `JobSpec` to the engine's `SearchRequest`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dynas_service.jobs.spec import JobSpec

if TYPE_CHECKING:
    from dynas_service.engine import SearchRequest
    from dynas_service.search import SearchSpace


def build_space(spec: JobSpec) -> SearchSpace:
    """The method's default space for the model, with the spec's ranges replacing defaults."""
    from dynas_service.search import SearchSpace

    ranges = SearchSpace.default(spec.model.dynamic, spec.model.hidden_layers).to_dict()
    for name, bounds in (spec.search_space or {}).items():
        ranges[name] = _range_dict(name, bounds.model_dump())
    return SearchSpace.from_dict(ranges)


def _range_dict(name: str, bounds: dict) -> dict:
    """Sizes are integers whatever the client said."""
    if name == "batch_size" or name.startswith("units_"):
        bounds = {**bounds, "type": "int", "low": int(bounds["low"]), "high": int(bounds["high"])}
    return bounds


def to_search_request(
    spec: JobSpec, job_id: str, data_dir: Path, storage_uri: str | None = None
) -> SearchRequest:
    """The engine's request for a resolved spec (``model.family`` already filled in).

    ``storage_uri``: Ray Tune's checkpoint storage (``None``: inside the job directory).
    """
    from dynas_service.engine import ModelOptions, SearchRequest

    if spec.model.family is None:
        raise ValueError("spec.model.family must be resolved before conversion")
    model = ModelOptions(
        family=spec.model.family,
        hidden_layers=spec.model.hidden_layers,
        initial_units=spec.model.initial_units,
        dynamic=spec.model.dynamic,
        regularizer=spec.model.regularizer,
        dropout=None if spec.model.dropout is None else tuple(spec.model.dropout),
    )
    return SearchRequest(
        job_id=job_id,
        algorithm=spec.algorithm,
        algorithm_options=dict(spec.algorithm_options),
        space=build_space(spec),
        model=model,
        dataset=spec.dataset,
        data_dir=data_dir,
        validation_fraction=spec.validation_fraction,
        sample=spec.sample,
        seed=spec.seed,
        budget_seconds=spec.budget.seconds,
        budget_trials=spec.budget.trials,
        cpus_per_trial=spec.resources.cpus_per_trial,
        gpus_per_trial=spec.resources.gpus_per_trial,
        max_concurrent_trials=spec.resources.max_concurrent_trials,
        storage_uri=_job_storage(storage_uri, job_id),
    )


def _job_storage(storage_uri: str | None, job_id: str) -> str | None:
    """Each job gets its own folder under a shared storage URI."""
    if not storage_uri:
        return None
    return f"{storage_uri.rstrip('/')}/{job_id}"
