"""Typed dependency aliases: handlers declare what they need, tests can override it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dynas_service.api.metrics import ServiceMetrics
from dynas_service.api.models import ModelFiles
from dynas_service.api.services import Services
from dynas_service.data import DatasetStore
from dynas_service.jobs import JobManager, JobStore
from dynas_service.settings import Settings


async def get_services(request: Request) -> Services:
    """The `Services` that `create_app` put on ``app.state``."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_store(services: ServicesDep) -> JobStore:
    return services.store


async def get_manager(services: ServicesDep) -> JobManager:
    return services.manager


async def get_datasets(services: ServicesDep) -> DatasetStore:
    return services.datasets


async def get_models(services: ServicesDep) -> ModelFiles:
    return services.models


async def get_metrics(services: ServicesDep) -> ServiceMetrics:
    return services.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[JobStore, Depends(get_store)]
ManagerDep = Annotated[JobManager, Depends(get_manager)]
DatasetsDep = Annotated[DatasetStore, Depends(get_datasets)]
ModelsDep = Annotated[ModelFiles, Depends(get_models)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
