"""``/datasets``: upload (multipart, size-limited while streaming), list, get, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from dynas_service.api.deps import DatasetsDep, SettingsDep, StoreDep
from dynas_service.api.schemas import DatasetOut
from dynas_service.data import BUILTIN_DATASETS, BUILTIN_INFO, DatasetInfo, parse_upload
from dynas_service.jobs import ACTIVE_STATUSES

MULTIPART_SLACK = 64 * 1024
"""Bytes of multipart framing and form fields allowed on top of the file itself."""


def dataset_out(info: DatasetInfo) -> DatasetOut:
    """The API view of a `DatasetInfo`."""
    return DatasetOut(**info.to_dict(), builtin=info.id in BUILTIN_DATASETS)


def datasets_router() -> APIRouter:
    """The router (the streaming body limit is `UploadLimitMiddleware`, see `create_app`)."""
    router = APIRouter(prefix="/datasets", tags=["datasets"])

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        responses={
            413: {"description": "Upload over DYNAS_MAX_UPLOAD_MB"},
            422: {"description": "Malformed or invalid data"},
        },
    )
    async def upload_dataset(
        datasets: DatasetsDep,
        settings: SettingsDep,
        file: Annotated[UploadFile, File(description=".npz (X, y), .csv or .parquet")],
        target: Annotated[str | None, Form(max_length=200)] = None,
        task: Annotated[Literal["classification", "regression"] | None, Form()] = None,
    ) -> DatasetOut:
        """Validate and store a dataset; returns its id for ``JobSpec.dataset``."""
        content = await file.read()
        if len(content) > settings.max_upload_bytes():
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE)
        name = file.filename or "upload.npz"
        dataset = await run_in_threadpool(parse_upload, content, name, target=target, task=task)
        info = await run_in_threadpool(datasets.add, dataset)
        return dataset_out(info)

    @router.get("")
    def list_datasets(datasets: DatasetsDep) -> list[DatasetOut]:
        """Built-in datasets, then uploads (newest first)."""
        return [dataset_out(BUILTIN_INFO[n]) for n in BUILTIN_DATASETS] + [
            dataset_out(info) for info in datasets.list()
        ]

    @router.get("/{dataset_id}")
    def get_dataset(dataset_id: str, datasets: DatasetsDep) -> DatasetOut:
        """A built-in dataset by name or an upload by id."""
        if dataset_id in BUILTIN_INFO:
            return dataset_out(BUILTIN_INFO[dataset_id])
        return dataset_out(datasets.get(dataset_id))

    @router.delete("/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_dataset(dataset_id: str, datasets: DatasetsDep, store: StoreDep) -> None:
        """Delete an upload that no active job uses."""
        if dataset_id in BUILTIN_INFO:
            raise HTTPException(409, f"{dataset_id!r} is a built-in dataset; it cannot be deleted")
        datasets.get(dataset_id)
        users = [j.id for j in store.jobs_with_status(ACTIVE_STATUSES) if j.dataset == dataset_id]
        if users:
            raise HTTPException(
                409,
                f"dataset {dataset_id} is used by active job(s) "
                f"{', '.join(users)}; stop them first",
            )
        datasets.delete(dataset_id)

    return router
