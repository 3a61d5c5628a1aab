"""``dynas datasets``: upload, list, show and delete uploaded datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dynas_service.cli import output
from dynas_service.cli._state import open_client, print_json

app = typer.Typer(
    help="Upload and manage datasets (built-ins like digits need no upload).", no_args_is_help=True
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the server's JSON.")]
FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="A .npz (X, y), .csv or .parquet.")
]


@app.command("upload")
def upload(
    ctx: typer.Context,
    file: FileArg,
    target: Annotated[str | None, typer.Option(help="CSV target column (default last).")] = None,
    task: Annotated[str | None, typer.Option(help="classification | regression")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Upload a dataset file; prints its id (use it as --dataset)."""
    with open_client(ctx) as client:
        info = client.upload_dataset(file, target=target, task=task)
    if json_out:
        print_json(info)
    else:
        typer.echo(info["id"])
        typer.echo(output.datasets_table([info]).splitlines()[1], err=True)


@app.command("list")
def list_datasets(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List uploaded datasets."""
    with open_client(ctx) as client:
        rows = client.list_datasets()
    print_json(rows) if json_out else typer.echo(output.datasets_table(rows))


@app.command("show")
def show(ctx: typer.Context, dataset_id: str, json_out: JsonFlag = False) -> None:
    """Show one uploaded dataset."""
    with open_client(ctx) as client:
        info = client.get_dataset(dataset_id)
    print_json(info) if json_out else typer.echo(output.datasets_table([info]))


@app.command("delete")
def delete(ctx: typer.Context, dataset_id: str) -> None:
    """Delete an uploaded dataset."""
    with open_client(ctx) as client:
        client.delete_dataset(dataset_id)
    typer.echo(f"deleted dataset {dataset_id}")
