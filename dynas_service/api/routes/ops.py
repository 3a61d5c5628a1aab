"""Operations: ``/healthz`` (open) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from dynas_service.api.deps import MetricsDep, ServicesDep
from dynas_service.api.health import mlflow_health, ray_health
from dynas_service.api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(services: ServicesDep) -> Health:
    """Ray and MLflow reachability; ``degraded`` when either is unreachable."""
    ray: dict[str, Any] = ray_health(services.manager)
    mlflow: dict[str, Any] = mlflow_health(services.settings, services.store, services.probe)
    bad = ray["status"] == "unreachable" or mlflow["status"] in ("unreachable", "degraded")
    runners = {"standby": services.manager.standby_state()}
    return Health(status="degraded" if bad else "ok", ray=ray, mlflow=mlflow, runners=runners)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(service_metrics: MetricsDep) -> Response:
    """Prometheus exposition: jobs by status, trials running, epochs, best, latencies."""
    return Response(service_metrics.render(), media_type=CONTENT_TYPE_LATEST)
