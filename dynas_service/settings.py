"""Service configuration: one pydantic-settings class read from ``DYNAS_*`` variables.

Built once by the entry point (``dynas serve``, the job runner, tests) and injected; nothing
reads the environment at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service, with the embedded single-machine defaults."""

    model_config = SettingsConfigDict(env_prefix="DYNAS_", extra="ignore")

    data_dir: Path = Field(
        default=Path("dynas-data"),
        description="Datasets, job directories, the job database and the embedded MLflow store.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the job store; default sqlite:///<data_dir>/jobs.db.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; default sqlite:///<data_dir>/mlflow.db with "
        "artifacts in <data_dir>/mlartifacts. Empty string disables tracking.",
    )
    mlflow_experiment: str = Field(default="dynas", description="Default MLflow experiment.")
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster to join (also read from RAY_ADDRESS). Unset: the service "
        "starts one local head node for all jobs.",
    )
    ray_num_cpus: int | None = Field(
        default=None, ge=1, description="CPUs of the embedded local Ray head (default: all)."
    )
    storage_uri: str | None = Field(
        default=None,
        description="Ray Tune storage for trial checkpoints; default <data_dir>/jobs/<id>/ray. "
        "On a multi-node cluster this must be shared (NFS path or s3://...).",
    )
    api_token: SecretStr | None = Field(
        default=None, description="If set, every endpoint but /healthz needs this bearer token."
    )
    max_upload_mb: float = Field(default=200, gt=0, description="Upload size limit in MB.")
    max_predict_rows: int = Field(
        default=10_000, ge=1, description="Most input rows one POST /jobs/{id}/predict may send."
    )
    reconcile_interval_s: float = Field(
        default=2.0, gt=0, description="How often the API checks that running jobs' runners live."
    )
    training_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Scheduling niceness of runners and of the embedded Ray head (so of the "
        "trials): training yields the CPU to the API. 0 keeps the default priority.",
    )
    standby_runner: bool = Field(
        default=True,
        description="Keep one pre-warmed runner process (torch, Ray, MLflow imported) ready, "
        "so a new job starts seconds sooner.",
    )
    warm_workers: int = Field(
        default=8,
        ge=0,
        description="Idle Ray trial workers (torch imported, ~0.45 GB each) the standby runner "
        "keeps ready across the cluster, at most one per CPU, so a job's first trials start "
        "at once. 0: none.",
    )
    host: str = Field(default="127.0.0.1", description="Bind address of `dynas serve`.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of `dynas serve`.")

    def resolved_data_dir(self) -> Path:
        """The data directory as an absolute path (created on demand by the callers)."""
        return self.data_dir.expanduser().resolve()

    def resolved_database_url(self) -> str:
        """The job store URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir() / 'jobs.db'}"

    def resolved_mlflow_uri(self) -> str | None:
        """The MLflow tracking URI; ``None`` when tracking is switched off."""
        if self.mlflow_tracking_uri == "":
            return None
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.resolved_data_dir() / 'mlflow.db'}"

    def mlflow_artifact_root(self) -> Path:
        """Where the embedded MLflow store keeps artifacts."""
        return self.resolved_data_dir() / "mlartifacts"

    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def jobs_dir(self) -> Path:
        """Parent of every job directory."""
        return self.resolved_data_dir() / "jobs"
