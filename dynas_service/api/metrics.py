"""Prometheus metrics of one app: its own registry (no global state), read at scrape time.

Job gauges come from the job store when ``/metrics`` is scraped; request latencies are
observed by `LatencyMiddleware`, labelled with the route template (not the raw path, so
job ids do not explode the label set).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dynas_service.jobs import JobStore

JOB_STATUSES = ("queued", "running", "stopping", "finished", "stopped", "interrupted", "failed")


class JobCollector(Collector):
    """Jobs by status, running trials, epochs trained and best metric per job."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        jobs = self._store.list_jobs(limit=10_000)
        by_status = GaugeMetricFamily("dynas_jobs", "Jobs by status", labels=["status"])
        counts = {status: 0 for status in JOB_STATUSES}
        for job in jobs:
            counts[job.status] = counts.get(job.status, 0) + 1
        for status, count in counts.items():
            by_status.add_metric([status], count)
        yield by_status
        running = GaugeMetricFamily("dynas_trials_running", "Trials training now, all jobs")
        running.add_metric([], sum(job.trials_running for job in jobs))
        yield running
        epochs = CounterMetricFamily(
            "dynas_epochs_trained", "Epochs trained per job", labels=["job_id"]
        )
        best = GaugeMetricFamily(
            "dynas_best_metric", "Best validation metric per job", labels=["job_id", "metric"]
        )
        for job in jobs:
            epochs.add_metric([job.id], job.epochs_trained)
            if job.best:
                best.add_metric([job.id, str(job.best.get("metric"))], float(job.best["value"]))
        yield epochs
        yield best


class ServiceMetrics:
    """The registry of one app and its request-latency histogram."""

    def __init__(self, store: JobStore) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "dynas_request_latency_seconds",
            "HTTP request latency by route template",
            labelnames=["method", "route", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.registry.register(JobCollector(store))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


class LatencyMiddleware:
    """Pure ASGI middleware observing each request's latency into `ServiceMetrics`."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.latency.labels(scope["method"], template, str(status[0])).observe(
                time.perf_counter() - start
            )
