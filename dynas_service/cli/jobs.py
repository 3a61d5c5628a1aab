"""Job commands: list, status, watch, best, download, predict, stop, resume, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dynas_service.cli import output
from dynas_service.cli._state import fail, open_client, print_json
from dynas_service.cli.inputs import load_inputs
from dynas_service.cli.watch import watch_job
from dynas_service.client import MODEL_FORMATS, DynasClient

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the server's JSON.")]
JobId = Annotated[str, typer.Argument(help="The job id (see `dynas list`).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="torchscript | safetensors | onnx")]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="File or directory (default ./<id>-best.<ext>)."),
]
InputOpt = Annotated[
    Path,
    typer.Option("--input", "-i", exists=True, dir_okay=False, help="Rows: .json, .csv or .npy."),
]
EXIT_WATCH_INTERRUPTED = 130


def list_jobs(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List jobs, newest first."""
    with open_client(ctx) as client:
        jobs = client.list_jobs()
    print_json(jobs) if json_out else typer.echo(output.jobs_table(jobs))


def status(ctx: typer.Context, job_id: JobId, json_out: JsonFlag = False) -> None:
    """Show one job: status, elapsed/budget, trials, best so far."""
    with open_client(ctx) as client:
        job = client.get_job(job_id)
    print_json(job) if json_out else typer.echo(output.job_details(job))


def watch(
    ctx: typer.Context,
    job_id: JobId,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 1.0,
    timeout: Annotated[float | None, typer.Option(min=0, help="Stop watching after N s.")] = None,
) -> None:
    """Follow a job live until it ends. Ctrl-C stops watching, never the job.

    Exit code: 0 finished/stopped (or --timeout reached), 1 failed/interrupted, 130 Ctrl-C.
    """
    with open_client(ctx) as client:
        follow(client, job_id, interval=interval, timeout=timeout)


def follow(client: DynasClient, job_id: str, *, interval: float, timeout: float | None) -> None:
    """Watch ``job_id`` and exit the way ``dynas watch`` documents (shared with ``submit -w``)."""
    try:
        job, ended = watch_job(client, job_id, interval=interval, timeout=timeout)
    except KeyboardInterrupt:
        typer.echo(
            f"stopped watching; job {job_id} keeps running (`dynas stop {job_id}` stops it)",
            err=True,
        )
        raise typer.Exit(EXIT_WATCH_INTERRUPTED) from None
    if not ended:
        typer.echo(
            f"still {job.get('status')} after --timeout; `dynas watch {job_id}` to follow", err=True
        )
        return
    if job.get("error"):
        typer.echo(f"error: {job['error']}", err=True)
    if job.get("status") in ("failed", "interrupted"):
        raise typer.Exit(1)


def best(ctx: typer.Context, job_id: JobId, json_out: JsonFlag = False) -> None:
    """Show the best model found so far (available while the job runs)."""
    with open_client(ctx) as client:
        summary = client.best(job_id)
    print_json(summary) if json_out else typer.echo(output.best_details(summary))


def download(
    ctx: typer.Context,
    job_id: JobId,
    format: FormatOpt = "torchscript",
    out: OutputOpt = None,
) -> None:
    """Download the current best model as a plain static PyTorch model."""
    if format not in MODEL_FORMATS:
        fail(f"error: --format must be one of {', '.join(MODEL_FORMATS)}, got {format!r}", 2)
    with open_client(ctx) as client:
        path = client.download_model(job_id, out, format=format)  # type: ignore[arg-type]
    typer.echo(f"saved {path} ({path.stat().st_size} bytes, {format})")


def predict(
    ctx: typer.Context,
    job_id: JobId,
    input_file: InputOpt,
    json_out: JsonFlag = False,
) -> None:
    """Predict with the job's current best model."""
    try:
        inputs = load_inputs(input_file)
    except (ValueError, OSError) as exc:
        fail(f"error: {exc}", 2)
    with open_client(ctx) as client:
        result = client.predict(job_id, inputs)
    if json_out:
        print_json(result)
        return
    typer.echo(output.predictions_text(result))


def stop(ctx: typer.Context, job_id: JobId) -> None:
    """Ask a job to stop; its best model stays available."""
    with open_client(ctx) as client:
        client.stop_job(job_id)
        job = client.get_job(job_id)
    typer.echo(f"job {job_id}: {job.get('status')}")


def resume(
    ctx: typer.Context,
    job_id: JobId,
    seconds: Annotated[float | None, typer.Option(help="New time budget in seconds.")] = None,
    trials: Annotated[int | None, typer.Option(help="New trial budget.")] = None,
) -> None:
    """Continue a stopped or interrupted job from where it was."""
    budget = {k: v for k, v in (("seconds", seconds), ("trials", trials)) if v is not None}
    with open_client(ctx) as client:
        client.resume_job(job_id, budget or None)
        job = client.get_job(job_id)
    typer.echo(f"job {job_id}: {job.get('status')}")


def delete(ctx: typer.Context, job_id: JobId) -> None:
    """Delete a job that is not running (its files included)."""
    with open_client(ctx) as client:
        client.delete_job(job_id)
    typer.echo(f"deleted job {job_id}")


def trials(ctx: typer.Context, job_id: JobId, json_out: JsonFlag = False) -> None:
    """List a job's trials with lineage."""
    with open_client(ctx) as client:
        rows = client.trials(job_id)
    print_json(rows) if json_out else typer.echo(output.trials_table(rows))


def trace(
    ctx: typer.Context,
    job_id: JobId,
    png: Annotated[Path | None, typer.Option("--png", help="Also save the plot here.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Show the anytime trace: the best-so-far value over wall time."""
    with open_client(ctx) as client:
        data = client.trace(job_id)
        if png is not None:
            png.write_bytes(client.trace_png(job_id))
    if json_out:
        print_json(data)
    else:
        for point in data.get("points", []):
            typer.echo(
                f"{output.duration(point.get('t'))}  {data.get('metric')}="
                f"{output.number(point.get('value'))}  trial {point.get('trial_id')}"
                f" epoch {point.get('epoch')}"
            )
    if png is not None:
        typer.echo(f"saved {png}", err=json_out)
