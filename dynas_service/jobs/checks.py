"""Spec checks that need the dataset or the cluster, and the defaults they decide.

Called by the service before anything is stored: `resolve_spec` either returns the spec
with its dataset-dependent defaults filled in or raises `SpecError` naming the field.
"""

from __future__ import annotations

from typing import Any

from dynas_service.jobs.errors import SpecError
from dynas_service.jobs.spec import JobSpec


def is_image_shape(input_shape: tuple[int, ...] | list[int]) -> bool:
    """``(C, H, W)`` inputs are images; everything else is tabular."""
    return len(input_shape) == 3


def resolve_spec(
    spec: JobSpec, input_shape: tuple[int, ...], cluster_gpus: float | None
) -> JobSpec:
    """Fill ``model.family`` from the input shape and check family and GPUs.

    ``cluster_gpus`` is the cluster's GPU total, ``None`` when unknown (then not checked).
    """
    image = is_image_shape(input_shape)
    family = spec.model.family or ("cnn" if image else "mlp")
    if family == "cnn" and not image:
        raise SpecError(
            ("model", "family"),
            f"a cnn needs image-shaped inputs (C, H, W); dataset {spec.dataset!r} has input "
            f"shape {tuple(input_shape)}: use family 'mlp'",
        )
    gpus = spec.resources.gpus_per_trial
    if cluster_gpus is not None and gpus > cluster_gpus:
        raise SpecError(
            ("resources", "gpus_per_trial"),
            f"gpus_per_trial={gpus:g} but the cluster has {cluster_gpus:g} GPU(s)",
        )
    _check_space(spec)
    return spec.model_copy(update={"model": spec.model.model_copy(update={"family": family})})


def _check_space(spec: JobSpec) -> None:
    from dynas_service.jobs.convert import build_space

    try:
        build_space(spec)
    except ValueError as error:
        raise SpecError(("search_space",), f"invalid search space: {error}") from error


def error_detail(error: SpecError, value: Any = None) -> list[dict[str, Any]]:
    """FastAPI's 422 ``detail`` shape for one spec error."""
    return [
        {
            "type": "value_error",
            "loc": ["body", *error.field],
            "msg": error.message,
            "input": value,
        }
    ]
