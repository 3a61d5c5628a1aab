"""dynas_service.jobs: the durable job record and the runners that execute searches.

``JobSpec`` (the REST spec, convertible to the engine's ``SearchRequest``), ``JobStore``
(SQLAlchemy), ``StoreObserver`` (engine events into the store) and ``JobManager`` (runner
subprocesses, the embedded Ray head). Importing this package imports neither Ray nor torch.
"""

from dynas_service.jobs.checks import resolve_spec
from dynas_service.jobs.convert import build_space, to_search_request
from dynas_service.jobs.errors import JobConflictError, JobNotFoundError, SpecError
from dynas_service.jobs.manager import JobManager
from dynas_service.jobs.observer import StoreObserver
from dynas_service.jobs.spec import BudgetSpec, JobSpec, ModelSpec, RangeSpec, ResourcesSpec
from dynas_service.jobs.store import ACTIVE_STATUSES, FINAL_STATUSES, JobStore

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "BudgetSpec",
    "JobConflictError",
    "JobManager",
    "JobNotFoundError",
    "JobSpec",
    "JobStore",
    "ModelSpec",
    "RangeSpec",
    "ResourcesSpec",
    "SpecError",
    "StoreObserver",
    "build_space",
    "resolve_spec",
    "to_search_request",
]
