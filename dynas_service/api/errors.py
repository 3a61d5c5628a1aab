"""Map the domain's exceptions to HTTP statuses with FastAPI's ``{"detail": ...}`` body."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dynas_service.api.models import ModelUnavailableError
from dynas_service.data import DatasetError, UnknownDatasetError
from dynas_service.jobs import JobConflictError, JobNotFoundError, SpecError
from dynas_service.jobs.checks import error_detail

_log = logging.getLogger(__name__)


def _detail(status: int, detail: object) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _not_found(_request: Request, error: Exception) -> JSONResponse:
    return _detail(404, str(error))


async def _conflict(_request: Request, error: Exception) -> JSONResponse:
    return _detail(409, str(error))


async def _spec(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SpecError)
    return _detail(422, error_detail(error, error.value))


async def _dataset(_request: Request, error: Exception) -> JSONResponse:
    return _detail(422, str(error))


async def _too_large(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 413:
        limit = request.app.state.services.settings.max_upload_mb
        return _detail(
            413,
            f"the upload is larger than the limit of {limit:g} MB (setting DYNAS_MAX_UPLOAD_MB)",
        )
    return JSONResponse(
        {"detail": error.detail},
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app`` (order: most specific exception first)."""
    app.add_exception_handler(JobNotFoundError, _not_found)
    app.add_exception_handler(UnknownDatasetError, _not_found)
    app.add_exception_handler(ModelUnavailableError, _not_found)
    app.add_exception_handler(JobConflictError, _conflict)
    app.add_exception_handler(SpecError, _spec)
    app.add_exception_handler(DatasetError, _dataset)
    app.add_exception_handler(HTTPException, _too_large)
