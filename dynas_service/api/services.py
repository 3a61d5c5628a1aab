"""Everything a request handler needs, built once per app by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from dynas_service.api.best_cache import BestCache
from dynas_service.api.health import HttpProbe
from dynas_service.api.metrics import ServiceMetrics
from dynas_service.api.models import ModelFiles
from dynas_service.data import DatasetStore
from dynas_service.jobs import JobManager, JobStore
from dynas_service.settings import Settings


@dataclass
class Services:
    """The app's collaborators; handlers get them through the typed aliases in `deps`."""

    settings: Settings
    store: JobStore
    manager: JobManager
    datasets: DatasetStore
    models: ModelFiles
    metrics: ServiceMetrics
    probe: HttpProbe
    best_cache: BestCache
