"""Shared CLI plumbing: the per-invocation state, client construction and error mapping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import typer

from dynas_service.client import DynasAPIError, DynasClient, DynasConnectionError, DynasError

EXIT_API_ERROR = 1
EXIT_CONNECTION = 3


@dataclass
class CliState:
    """What the root options decided; ``transport`` lets tests route requests in-process."""

    url: str | None = None
    token: str | None = None
    timeout: float = 30.0
    transport: httpx.BaseTransport | None = None

    def client(self) -> DynasClient:
        """A new client for this invocation (the caller closes it)."""
        return DynasClient(self.url, self.token, self.timeout, transport=self.transport)


def state_of(ctx: typer.Context) -> CliState:
    """The :class:`CliState` of this invocation (created by the root callback)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


@contextmanager
def open_client(ctx: typer.Context) -> Iterator[DynasClient]:
    """A client whose errors become one-line messages on stderr and a non-zero exit.

    Exit codes: 1 the service answered with an error, 3 the service could not be reached.
    """
    client = state_of(ctx).client()
    try:
        yield client
    except DynasConnectionError as exc:
        fail(str(exc), EXIT_CONNECTION)
    except DynasAPIError as exc:
        fail(f"error: {exc}", EXIT_API_ERROR)
    except DynasError as exc:  # pragma: no cover - future subclasses
        fail(f"error: {exc}", EXIT_API_ERROR)
    finally:
        client.close()


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` on stderr and exit with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def print_json(payload: Any) -> None:
    """Machine-readable output of the read commands (``--json``)."""
    typer.echo(json.dumps(payload, indent=2, sort_keys=False, default=str))
