"""SQLAlchemy tables of the job store: jobs, trace points and trials (one row per individual).

Times are UNIX seconds (floats) so SQLite and PostgreSQL store them the same way; JSON
columns hold the spec, the dataset info, the best summary and per-trial details.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the job store (its own metadata; create_all is idempotent)."""


class JobRow(Base):
    """One search job; ``elapsed_s`` sums the wall time of finished runs."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    dataset: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    dataset_info: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    queued_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    elapsed_s: Mapped[float] = mapped_column(Float, default=0.0)
    trials_running: Mapped[int] = mapped_column(Integer, default=0)
    trials_finished: Mapped[int] = mapped_column(Integer, default=0)
    trials_total: Mapped[int] = mapped_column(Integer, default=0)
    epochs_trained: Mapped[int] = mapped_column(Integer, default=0)
    best: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    best_version: Mapped[int] = mapped_column(Integer, default=-1)
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tracking_health: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    runner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    runner_token: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resume_count: Mapped[int] = mapped_column(Integer, default=0)


class TracePointRow(Base):
    """One improvement of the best-so-far value."""

    __tablename__ = "trace_points"
    __table_args__ = (Index("ix_trace_job_t", "job_id", "t"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    t: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    trial_id: Mapped[str] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(Integer)


class TrialRow(Base):
    """One individual (a model lineage): a trial of random/grid/progressive search or an
    individual of the evolution. ``parent_id`` names the individual a clone started from."""

    __tablename__ = "trials"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    individual_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ray_trial_id: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    origin: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    hyperparameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at_s: Mapped[float] = mapped_column(Float)
    updated_at_s: Mapped[float] = mapped_column(Float)
    epochs: Mapped[int] = mapped_column(Integer, default=0)
    age: Mapped[int] = mapped_column(Integer, default=0)
    metric: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last_metric: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_metric: Mapped[float | None] = mapped_column(Float, nullable=True)
    layer_sizes: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    n_parameters: Mapped[int | None] = mapped_column(Integer, nullable=True)
