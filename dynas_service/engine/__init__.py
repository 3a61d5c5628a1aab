"""dynas_service.engine: the Ray Tune adapter (the only package importing Ray).

``run_search(request, job_dir, observer, resume=False)`` runs a job's search as a Tune
experiment in the calling process (the job runner is the Tune driver) and blocks until it
ends; ``read_best`` / ``read_trace`` read the durable results at any time. See
docs/internals.md ("engine", "Job directory layout").
"""

from dynas_service.engine.best import read_best, read_trace
from dynas_service.engine.request import ModelOptions, SearchRequest

__all__ = ["ModelOptions", "SearchRequest", "read_best", "read_trace", "run_search"]


def __getattr__(name: str) -> object:
    # run_search pulls in Ray, Tune and torch; readers of the best model need none of it.
    if name == "run_search":
        from dynas_service.engine.run import run_search

        return run_search
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
