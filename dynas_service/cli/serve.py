"""Commands that run things locally: ``serve``, ``mlflow-ui``, ``bench anytime``, ``health``.

The API, uvicorn, pydantic-settings and MLflow are imported inside the commands, so the
client commands never pay for them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dynas_service.cli._state import fail, open_client, print_json
from dynas_service.cli.output import health_text

if TYPE_CHECKING:
    from dynas_service.settings import Settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def build_settings(**overrides: Any) -> Settings:
    """``Settings`` from ``DYNAS_*`` variables with the given (non-``None``) flags on top."""
    from pydantic import ValidationError

    from dynas_service.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"error: invalid settings: {problems}", 2)
        raise  # unreachable: fail() exits


def mlflow_ui_command(settings: Settings, port: int) -> list[str]:
    """The ``mlflow ui`` command line over the service's embedded MLflow store."""
    uri = settings.resolved_mlflow_uri()
    if uri is None:
        raise ValueError("MLflow tracking is switched off (DYNAS_MLFLOW_TRACKING_URI is empty)")
    if uri.startswith(("http://", "https://")):
        raise ValueError(f"MLflow already runs as a server at {uri}: open that in a browser")
    return [
        sys.executable, "-m", "mlflow", "ui",
        "--backend-store-uri", uri,
        "--default-artifact-root", str(settings.mlflow_artifact_root()),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def _mlflow_env() -> dict[str, str]:
    # The UI must not start MLflow's job-execution workers (heavy, not needed here).
    return {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def _mlflow_process(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    try:
        command = mlflow_ui_command(settings, port)
    except ValueError as exc:
        fail(f"error: {exc}", 2)
        raise
    settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    typer.echo(f"MLflow UI on http://127.0.0.1:{port}", err=True)
    return subprocess.Popen(command, env=_mlflow_env())


def _terminate_on_sigterm(process: subprocess.Popen[bytes]) -> None:
    """Pass a SIGTERM of this process on to ``process`` so it is not left orphaned."""

    def forward(signum: int, frame: object) -> None:
        process.terminate()

    with contextlib.suppress(ValueError):  # ValueError: not the main thread
        signal.signal(signal.SIGTERM, forward)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (./dynas-data).")] = None,
    mlflow_ui: Annotated[bool, typer.Option("--mlflow-ui", help="Also run the MLflow UI.")] = False,
    mlflow_port: Annotated[int, typer.Option(help="Port of the MLflow UI.")] = 5000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Start the REST API (local Ray, local MLflow store, data in ./dynas-data)."""
    settings = build_settings(host=host, port=port, data_dir=data_dir)
    if settings.host not in LOOPBACK_HOSTS and settings.api_token is None:
        typer.echo(
            f"warning: serving on {settings.host} without DYNAS_API_TOKEN: anyone who "
            "can reach this port can run jobs",
            err=True,
        )
    try:
        import uvicorn

        from dynas_service.api import create_app
    except ImportError as exc:
        fail(f"error: the API is not available in this installation ({exc})", 1)
    ui = _mlflow_process(settings, mlflow_port) if mlflow_ui else None
    try:
        uvicorn.run(
            create_app(settings), host=settings.host, port=settings.port, log_level=log_level
        )
    finally:
        if ui is not None:
            ui.terminate()
            ui.wait(timeout=15)


def mlflow_ui(
    port: Annotated[int, typer.Option(help="Port of the MLflow UI.")] = 5000,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (./dynas-data).")] = None,
) -> None:
    """Browse the service's MLflow store (runs `mlflow ui` on 127.0.0.1)."""
    settings = build_settings(data_dir=data_dir)
    process = _mlflow_process(settings, port)
    _terminate_on_sigterm(process)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        code = process.wait(timeout=15)
    raise typer.Exit(code)


def health(ctx: typer.Context, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check that the service, Ray and MLflow are reachable (exit 1 if not ok)."""
    with open_client(ctx) as client:
        report = client.healthz()
    if json_out:
        print_json(report)
    else:
        typer.echo(health_text(report))
    if report.get("status") != "ok":
        raise typer.Exit(1)


bench_app = typer.Typer(
    help="Benchmarks (they live in the repository, not the package).", no_args_is_help=True
)


def benchmark_root(module: str, candidates: list[Path] | None = None) -> Path | None:
    """The directory holding ``benchmarks/<module>``: by default the working directory, then
    the source checkout this package runs from (an editable install)."""
    if candidates is None:
        candidates = [Path.cwd(), Path(__file__).resolve().parents[2]]
    for root in candidates:
        package = root / "benchmarks"
        if (package / f"{module}.py").is_file() or (package / module / "__main__.py").is_file():
            return root
    return None


@bench_app.command(
    "anytime",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench_anytime(ctx: typer.Context) -> None:
    """Run `python -m benchmarks.anytime` with every argument forwarded (try --help)."""
    root = benchmark_root("anytime")
    if root is None:
        fail(
            "error: benchmarks.anytime is not here: run `dynas bench anytime` from a source "
            "checkout of dynas_service (the benchmarks are not installed with the package)",
            2,
        )
        return
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    code = subprocess.call([sys.executable, "-m", "benchmarks.anytime", *ctx.args], env=env)
    raise typer.Exit(code)
