"""The ``dynas`` command line: runs the service and talks to it through the Python client.

Every client command goes through :class:`dynas_service.client.DynasClient` (httpx only);
nothing on those paths imports torch, Ray, MLflow or FastAPI, so they answer fast.
Exit codes: 0 ok, 1 the service answered with an error, 2 bad usage or input file,
3 the service could not be reached, 130 ``watch`` interrupted with Ctrl-C.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dynas_service.cli import datasets, jobs, serve, submit
from dynas_service.cli._state import CliState

app = typer.Typer(
    name="dynas",
    help="Anytime neural network search as a service: run it, submit jobs, get the best model.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(envvar="DYNAS_URL", help="Service URL (default http://127.0.0.1:8000)."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="DYNAS_API_TOKEN", help="Bearer token, if the service requires one."),
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Request timeout in seconds.")] = 30.0,
) -> None:
    """Options shared by every command that talks to the service."""
    state = ctx.ensure_object(CliState)
    state.url = url or state.url
    state.token = token or state.token
    state.timeout = timeout


app.command("serve")(serve.serve)
app.command("mlflow-ui")(serve.mlflow_ui)
app.command("health")(serve.health)
app.command("submit")(submit.submit)
app.command("list")(jobs.list_jobs)
app.command("status")(jobs.status)
app.command("watch")(jobs.watch)
app.command("best")(jobs.best)
app.command("download")(jobs.download)
app.command("predict")(jobs.predict)
app.command("stop")(jobs.stop)
app.command("resume")(jobs.resume)
app.command("delete")(jobs.delete)
app.command("trials")(jobs.trials)
app.command("trace")(jobs.trace)
app.add_typer(datasets.app, name="datasets")
app.add_typer(serve.bench_app, name="bench")


def main() -> None:
    """Console-script entry point (``dynas``)."""
    app()


__all__ = ["app", "main"]
