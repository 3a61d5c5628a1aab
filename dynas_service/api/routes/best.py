"""The current best model: summary, download and predictions, at any time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from dynas_service.api.deps import ManagerDep, ModelsDep, ServicesDep, SettingsDep
from dynas_service.api.inputs import prediction_inputs
from dynas_service.api.models import FORMATS, ModelFiles
from dynas_service.api.schemas import BestSummary, PredictRequest, PredictResponse
from dynas_service.api.views import best_summary
from dynas_service.jobs import JobManager
from dynas_service.jobs.tables import JobRow

router = APIRouter(prefix="/jobs/{job_id}", tags=["best model"])
NO_BEST: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown job, or no epoch has finished yet"}
}


def _best_of(row: JobRow) -> dict[str, Any]:
    if not row.best:
        raise HTTPException(
            404,
            f"job {row.id} has no best model yet (status {row.status}): no epoch has "
            "finished; poll again in a few seconds",
        )
    return row.best


@router.get("/best", response_model=BestSummary, responses=NO_BEST)
async def get_best(job_id: str, services: ServicesDep) -> Response:
    """The best model so far (validation accuracy, or RMSE for regression).

    Served from memory, reloaded at most every ``BestCache.ttl`` (0.25 s) by one load.
    """
    body = await services.best_cache.body(
        job_id, lambda: run_in_threadpool(_best_body, services.manager, job_id)
    )
    return Response(body, media_type="application/json")


def _best_body(manager: JobManager, job_id: str) -> bytes:
    summary = best_summary(_best_of(manager.get(job_id)))
    assert summary is not None
    return summary.model_dump_json().encode()


@router.get(
    "/best/model",
    response_class=FileResponse,
    responses={**NO_BEST, 200: {"content": {"application/octet-stream": {}}}},
)
def download_best(
    job_id: str,
    manager: ManagerDep,
    models: ModelsDep,
    format: Annotated[Literal["torchscript", "safetensors", "onnx"], Query()] = "torchscript",
) -> FileResponse:
    """The best model as a plain static PyTorch model file (byte-identical per version)."""
    row = manager.get(job_id)
    best = _best_of(row)
    path = models.export(manager.job_dir(row.id), best, format)
    filename = f"{row.id}-best-v{best.get('version', 0)}{FORMATS[format][1]}"
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=filename,
        headers={"X-Model-Version": str(best.get("version", 0))},
    )


@router.post("/predict", responses={**NO_BEST, 422: {"description": "Inputs do not fit"}})
async def predict(
    job_id: str,
    body: PredictRequest,
    manager: ManagerDep,
    models: ModelsDep,
    settings: SettingsDep,
) -> PredictResponse:
    """Predictions of the current best model for raw inputs."""
    row = await run_in_threadpool(manager.get, job_id)
    best = _best_of(row)
    shape = list((row.dataset_info or {}).get("input_shape") or [])
    try:
        x = prediction_inputs(body.inputs, shape, settings.max_predict_rows)
    except ValueError as error:
        raise HTTPException(422, str(error)) from error
    return await run_in_threadpool(_predict, models, row, manager.job_dir(row.id), best, x)


def _predict(
    models: ModelFiles, row: JobRow, job_dir: Path, best: dict[str, Any], x: np.ndarray
) -> PredictResponse:
    from dynas_service.nn import predict as run_model

    model = models.loaded(row.id, job_dir, best)
    try:
        result = run_model(model, x)
    except ValueError as error:
        raise HTTPException(422, str(error)) from error
    names = (row.dataset_info or {}).get("class_names")
    labels = None
    if result.probabilities is not None and names:
        labels = [
            str(names[int(i)]) if 0 <= int(i) < len(names) else str(int(i))
            for i in result.predictions
        ]
    return PredictResponse(
        predictions=result.predictions.tolist(),
        probabilities=None if result.probabilities is None else result.probabilities.tolist(),
        labels=labels,
        model_version=int(best.get("version", 0)),
    )
