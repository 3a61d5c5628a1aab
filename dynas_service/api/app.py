"""`create_app(settings)`: the FastAPI application, built from injected settings.

Nothing is created at import time. The app owns one `JobStore`, one `JobManager` (whose
monitor thread reconciles runner processes) and the model caches; they live on
``app.state.services`` and reach handlers through the typed aliases of `deps`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dynas_service import __version__
from dynas_service.api.auth import BearerAuthMiddleware
from dynas_service.api.best_cache import BestCache
from dynas_service.api.errors import install_error_handlers
from dynas_service.api.health import HttpProbe
from dynas_service.api.limits import UploadLimitMiddleware
from dynas_service.api.metrics import LatencyMiddleware, ServiceMetrics
from dynas_service.api.models import ModelFiles
from dynas_service.api.routes import best, jobs, ops, trace
from dynas_service.api.routes.datasets import MULTIPART_SLACK, datasets_router
from dynas_service.api.services import Services
from dynas_service.data import DatasetStore, uploads_root
from dynas_service.jobs import JobManager, JobStore
from dynas_service.settings import Settings


def build_services(settings: Settings, *, ray_address: str | None = None) -> Services:
    """The collaborators of one app (creates the data directory)."""
    settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    settings.jobs_dir().mkdir(parents=True, exist_ok=True)
    store = JobStore(settings.resolved_database_url())
    return Services(
        settings=settings,
        store=store,
        manager=JobManager(settings, store, ray_address=ray_address),
        datasets=DatasetStore(uploads_root(settings.resolved_data_dir())),
        models=ModelFiles(),
        metrics=ServiceMetrics(store),
        probe=HttpProbe(),
        best_cache=BestCache(),
    )


def create_app(settings: Settings, *, ray_address: str | None = None) -> FastAPI:
    """The REST service of ``docs/api-contract.md``.

    ``ray_address`` overrides the settings' cluster (tests inject a running one). On start
    the app reconciles jobs left by a previous process and, without a configured cluster,
    starts (or finds) the embedded Ray head in the background.
    """
    services = build_services(settings, ray_address=ray_address)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.manager.start_monitor(settings.reconcile_interval_s)
        services.manager.warm_up()
        # Everything built so far (app, routes, models, SQLAlchemy) lives as long as the
        # process: keep it out of the collector so full collections stay short under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            services.manager.close()
            services.store.close()

    app = FastAPI(
        title="dynas_service",
        version=__version__,
        description="Anytime neural-network search over dynamic auto-sizing PyTorch models.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(datasets_router())
    for module in (jobs, best, trace, ops):
        app.include_router(module.router)
    if settings.api_token is not None and settings.api_token.get_secret_value():
        app.add_middleware(BearerAuthMiddleware, token=settings.api_token.get_secret_value())
    app.add_middleware(
        UploadLimitMiddleware,
        path="/datasets",
        limit_bytes=settings.max_upload_bytes() + MULTIPART_SLACK,
        message=f"the upload is larger than the limit of {settings.max_upload_mb:g} MB "
        "(setting DYNAS_MAX_UPLOAD_MB)",
    )
    app.add_middleware(LatencyMiddleware, metrics=services.metrics)
    return app


def app_from_environment() -> FastAPI:
    """``create_app(Settings())`` for ``uvicorn --factory`` (settings from ``DYNAS_*``)."""
    return create_app(Settings())
