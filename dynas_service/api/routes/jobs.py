"""``/jobs``: submit, list, get, stop, resume, delete, trials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from dynas_service.api.deps import ManagerDep, ServicesDep, SettingsDep, StoreDep
from dynas_service.api.routes.datasets import dataset_out
from dynas_service.api.schemas import Job, JobStatus, ResumeRequest, Trial
from dynas_service.api.views import job_out, trial_out
from dynas_service.data import DatasetError, dataset_info
from dynas_service.jobs import JobSpec, SpecError, resolve_spec

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "Invalid spec; the detail names the field"}},
)
def submit_job(spec: JobSpec, manager: ManagerDep, settings: SettingsDep) -> Job:
    """Validate the spec against its dataset and the cluster, store it and start it."""
    try:
        info = dataset_info(spec.dataset, settings.resolved_data_dir())
    except DatasetError as error:
        raise SpecError(("dataset",), str(error), spec.dataset) from error
    resolved = resolve_spec(spec, info.input_shape, manager.cluster_gpus())
    return job_out(manager.submit(resolved, dataset_out(info).model_dump(mode="json")))


@router.get("")
def list_jobs(
    store: StoreDep,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[Job]:
    """Jobs, newest first (optionally only those with one status)."""
    rows = store.list_jobs(limit=limit)
    return [job_out(r) for r in rows if status_filter is None or r.status == status_filter]


@router.get("/{job_id}", responses={404: {"description": "Unknown job"}})
def get_job(job_id: str, manager: ManagerDep) -> Job:
    """One job."""
    return job_out(manager.get(job_id))


@router.post(
    "/{job_id}/stop",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"description": "Not running: nothing to stop"},
        404: {"description": "Unknown job"},
    },
)
def stop_job(job_id: str, manager: ManagerDep, response: Response) -> Job:
    """Ask the job to stop (202); a job that is not running is left as it is (200)."""
    row, requested = manager.stop(job_id)
    if not requested:
        response.status_code = status.HTTP_200_OK
    return job_out(row)


@router.post(
    "/{job_id}/resume",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "Unknown job"}, 409: {"description": "The job is running"}},
)
def resume_job(
    job_id: str, manager: ManagerDep, body: Annotated[ResumeRequest | None, Body()] = None
) -> Job:
    """Continue a stopped or interrupted job from where it was, optionally with a new budget."""
    return job_out(manager.resume(job_id, body.budget if body else None))


@router.delete(
    "/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "Unknown job"}, 409: {"description": "The job is running"}},
)
def delete_job(job_id: str, services: ServicesDep) -> None:
    """Delete a job that is not running, with its files."""
    services.manager.delete(job_id)
    services.models.forget(job_id)
    services.best_cache.forget(job_id)


@router.get("/{job_id}/trials", responses={404: {"description": "Unknown job"}})
def list_trials(job_id: str, manager: ManagerDep, store: StoreDep) -> list[Trial]:
    """The job's trials (individuals) with lineage, in start order."""
    manager.get(job_id)
    return [trial_out(t) for t in store.list_trials(job_id)]
