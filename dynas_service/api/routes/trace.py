"""The anytime performance trace of a job, as JSON and as a PNG plot."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool

from dynas_service.api.deps import ManagerDep, StoreDep
from dynas_service.api.schemas import Trace
from dynas_service.api.views import trace_out

router = APIRouter(prefix="/jobs/{job_id}", tags=["trace"])


@router.get("/trace", responses={404: {"description": "Unknown job"}})
def get_trace(job_id: str, manager: ManagerDep, store: StoreDep) -> Trace:
    """Best-so-far value over wall time (empty until the first epoch ends)."""
    row = manager.get(job_id)
    return trace_out(row, store.trace_points(row.id))


@router.get(
    "/trace.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "Unknown job"}},
)
async def get_trace_png(job_id: str, manager: ManagerDep, store: StoreDep) -> Response:
    """The trace drawn as a step plot."""
    row = await run_in_threadpool(manager.get, job_id)
    trace = trace_out(row, await run_in_threadpool(store.trace_points, row.id))
    png = await run_in_threadpool(_plot, trace, row.name)
    return Response(png, media_type="image/png")


def _plot(trace: Trace, title: str) -> bytes:
    from dynas_service.search import PerformanceTrace, plot_traces

    curve = PerformanceTrace(higher_is_better=bool(trace.higher_is_better in (True, None)))
    for point in trace.points:
        curve.record(max(0.0, point.t), point.value)
    return plot_traces([curve], title=title, ylabel=f"best {trace.metric or 'metric'}")
