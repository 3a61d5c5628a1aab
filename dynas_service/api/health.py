"""Reachability of Ray and MLflow, cheap enough for a liveness probe."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dynas_service.jobs import JobManager, JobStore
from dynas_service.settings import Settings


def ray_health(manager: JobManager) -> dict[str, Any]:
    """``ok`` / ``unreachable`` / ``not started`` (embedded head not started yet)."""
    address = manager.known_ray_address()
    reachable = manager.ray_reachable()
    if reachable is None:
        return {"status": "not started", "address": None}
    return {"status": "ok" if reachable else "unreachable", "address": address}


def mlflow_health(settings: Settings, store: JobStore, probe: HttpProbe) -> dict[str, Any]:
    """``ok`` / ``unreachable`` / ``degraded`` (a runner's tracker reports trouble) /
    ``disabled``."""
    uri = settings.resolved_mlflow_uri()
    if uri is None:
        return {"status": "disabled", "uri": None}
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        reachable = Path(parsed.path).parent.exists() or not Path(parsed.path).is_absolute()
    elif parsed.scheme in ("http", "https"):
        reachable = probe.ok(uri.rstrip("/") + "/health")
    else:
        reachable = True  # e.g. databricks or a database URL: not probed here
    result: dict[str, Any] = {"status": "ok" if reachable else "unreachable", "uri": _safe(uri)}
    trackers = [
        j.tracking_health for j in store.jobs_with_status(("running",)) if j.tracking_health
    ]
    troubled = [h for h in trackers if str(h.get("status", "ok")) == "degraded"]
    if reachable and troubled:
        result.update(status="degraded", trackers=troubled[:5])
    return result


class HttpProbe:
    """``GET url`` answered 200 within 1 s? Cached per URL for ``ttl`` seconds."""

    def __init__(self, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._cache: dict[str, tuple[float, bool]] = {}

    def ok(self, url: str) -> bool:
        stamp, ok = self._cache.get(url, (0.0, False))
        if time.monotonic() - stamp < self._ttl:
            return ok
        import httpx

        try:
            ok = httpx.get(url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            ok = False
        self._cache[url] = (time.monotonic(), ok)
        return ok


def _safe(uri: str) -> str:
    """The URI without credentials."""
    parsed = urlparse(uri)
    if parsed.password:
        return uri.replace(f":{parsed.password}@", ":***@")
    return uri
