"""The durable job record: SQLAlchemy 2 over a SQLite file (WAL) or PostgreSQL by URL.

Shared by the API process (reads, status changes) and the runner processes (progress).
Every method opens its own short transaction, so one `JobStore` is safe to use from
several threads; rows come back detached (plain attribute access, no lazy loading).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, make_url, select, update
from sqlalchemy.orm import Session, sessionmaker

from dynas_service.jobs.tables import Base, JobRow, TracePointRow, TrialRow

ACTIVE_STATUSES = ("queued", "running", "stopping")
"""A job in one of these states has (or is about to have) a runner."""
FINAL_STATUSES = ("finished", "stopped", "interrupted", "failed")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and cross-thread use."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class JobStore:
    """Jobs, their trace points and their trials; see :mod:`dynas_service.jobs.tables`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = make_engine(url)
        Base.metadata.create_all(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def close(self) -> None:
        """Release the connection pool."""
        self._engine.dispose()

    def _session(self) -> Session:
        return self._sessions()

    # jobs ---------------------------------------------------------------------------
    def add_job(self, row: JobRow) -> JobRow:
        """Insert a new job row and return it."""
        with self._session() as session, session.begin():
            session.add(row)
        return row

    def get_job(self, job_id: str) -> JobRow | None:
        """The job, or ``None``."""
        with self._session() as session:
            return session.get(JobRow, job_id)

    def list_jobs(self, limit: int = 1000) -> list[JobRow]:
        """Jobs, newest first."""
        with self._session() as session:
            query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
            return list(session.scalars(query))

    def jobs_with_status(self, statuses: Iterable[str]) -> list[JobRow]:
        """Every job whose status is one of ``statuses``."""
        with self._session() as session:
            query = select(JobRow).where(JobRow.status.in_(list(statuses)))
            return list(session.scalars(query))

    def update_job(
        self, job_id: str, *, only_if_status: Iterable[str] | None = None, **values: Any
    ) -> bool:
        """Set columns of a job; with ``only_if_status`` only from those states.

        Returns whether a row changed (a conditional update is atomic: two processes
        racing on a status see exactly one winner).
        """
        query = update(JobRow).where(JobRow.id == job_id).values(**values)
        if only_if_status is not None:
            query = query.where(JobRow.status.in_(list(only_if_status)))
        with self._session() as session, session.begin():
            return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]

    def delete_job(self, job_id: str) -> bool:
        """Remove a job with its trials and trace; returns whether it existed."""
        with self._session() as session, session.begin():
            session.execute(delete(TrialRow).where(TrialRow.job_id == job_id))
            session.execute(delete(TracePointRow).where(TracePointRow.job_id == job_id))
            result = session.execute(delete(JobRow).where(JobRow.id == job_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def status_counts(self) -> dict[str, int]:
        """Number of jobs per status."""
        with self._session() as session:
            rows = session.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: int(count) for status, count in rows}

    # best and trace -------------------------------------------------------------------
    def record_best(self, job_id: str, best: dict[str, Any]) -> bool:
        """Store a new best summary (and its trace point) unless a newer one is stored.

        ``best`` is a ``BestRecord.to_dict()``; its ``version`` orders the bests.
        """
        version = int(best.get("version", 0))
        point = TracePointRow(
            job_id=job_id,
            t=float(best["found_at_s"]),
            value=float(best["value"]),
            trial_id=str(best["trial_id"]),
            epoch=int(best["epoch"]),
        )
        with self._session() as session, session.begin():
            changed = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.best_version < version)
                .values(best=best, best_version=version)
            ).rowcount  # type: ignore[attr-defined]
            if changed:
                session.add(point)
            return bool(changed)

    def trace_points(self, job_id: str) -> list[TracePointRow]:
        """The job's trace points in time order."""
        with self._session() as session:
            query = select(TracePointRow).where(TracePointRow.job_id == job_id)
            return list(session.scalars(query.order_by(TracePointRow.t, TracePointRow.id)))

    # trials ---------------------------------------------------------------------------
    def save_trials(self, job_id: str, trials: Iterable[TrialRow], epochs: int = 0) -> None:
        """Insert or replace trial rows, add ``epochs`` to the job's epoch count and
        refresh its trial counters, in one transaction."""
        with self._session() as session, session.begin():
            for trial in trials:
                session.merge(trial)
            session.flush()
            counts = dict(
                session.execute(
                    select(TrialRow.status, func.count())
                    .where(TrialRow.job_id == job_id)
                    .group_by(TrialRow.status)
                ).all()
            )
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(
                    trials_running=int(counts.get("running", 0)),
                    trials_finished=sum(int(n) for s, n in counts.items() if s != "running"),
                    trials_total=sum(int(n) for n in counts.values()),
                    epochs_trained=JobRow.epochs_trained + epochs,
                )
            )

    def list_trials(self, job_id: str) -> list[TrialRow]:
        """The job's trials in start order."""
        with self._session() as session:
            query = select(TrialRow).where(TrialRow.job_id == job_id)
            return list(session.scalars(query.order_by(TrialRow.started_at_s)))


def now() -> float:
    """UNIX time in seconds (the store's clock)."""
    return time.time()
