"""A small Python client over the dynas REST API (``docs/api-contract.md``).

One method per endpoint; responses come back as the server's JSON (dicts and lists),
errors as :class:`DynasAPIError` carrying the status code and the server's ``detail``.
Only httpx is imported here, so scripts and the CLI that use the client stay fast (no
torch, Ray, MLflow or FastAPI on this path).

Example::

    from dynas_service.client import DynasClient

    with DynasClient() as client:          # DYNAS_URL / DYNAS_API_TOKEN from the environment
        job = client.submit_job({"dataset": "digits", "budget": {"seconds": 60}})
        print(client.best(job["id"]))
        client.download_model(job["id"], "best.pt")

A client holds one ``httpx.Client`` (a connection pool); it is not thread-safe across
threads that close it, but concurrent requests through one instance are fine.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
ModelFormat = Literal["torchscript", "safetensors", "onnx"]
MODEL_FORMATS: tuple[str, ...] = ("torchscript", "safetensors", "onnx")
MODEL_SUFFIXES: dict[str, str] = {"torchscript": ".pt", "safetensors": ".zip", "onnx": ".onnx"}


class DynasError(Exception):
    """Base class of every error this client raises."""


class DynasConnectionError(DynasError):
    """The service could not be reached at all (refused, DNS, timeout)."""


class DynasAPIError(DynasError):
    """The service answered with an error status.

    ``status_code`` is the HTTP status; ``detail`` is the ``detail`` field of FastAPI's error
    body as sent (a string, or the list of validation errors for a 422), or the raw body text
    when the answer was not JSON.
    """

    def __init__(self, status_code: int, detail: Any) -> None:
        self.status_code = status_code
        self.detail = detail
        super().__init__(f"HTTP {status_code}: {format_detail(detail)}")


def format_detail(detail: Any) -> str:
    """One readable line for a FastAPI ``detail``: validation errors become ``field: msg``."""
    if isinstance(detail, list):
        return "; ".join(_format_validation_item(item) for item in detail) or "(no detail)"
    if isinstance(detail, str):
        return detail or "(no detail)"
    return str(detail)


def _format_validation_item(item: Any) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
    message = str(item.get("msg", item))
    return f"{'.'.join(loc)}: {message}" if loc else message


def _segment(value: str) -> str:
    """An id as one URL path segment (``/`` and ``..`` cannot escape the route)."""
    if not value or not str(value).strip():
        raise ValueError(f"an id must be a non-empty string, got {value=}")
    return quote(str(value), safe="")


class DynasClient:
    """Typed access to every endpoint of the REST contract.

    ``base_url`` defaults to ``$DYNAS_URL`` or ``http://127.0.0.1:8000``; ``token`` to
    ``$DYNAS_API_TOKEN`` (sent as ``Authorization: Bearer``). ``timeout`` is in seconds per
    request phase. ``transport`` lets tests inject an ``httpx.MockTransport``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout=}")
        self.base_url = (base_url or os.environ.get("DYNAS_URL") or DEFAULT_URL).rstrip("/")
        token = token if token is not None else os.environ.get("DYNAS_API_TOKEN") or None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    # -- plumbing -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> DynasClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._connection_error(exc) from exc
        _raise_for_status(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if not response.content:
            return None
        return response.json()

    def _connection_error(self, exc: httpx.TransportError) -> DynasConnectionError:
        reason = str(exc) or type(exc).__name__
        return DynasConnectionError(
            f"cannot reach the dynas service at {self.base_url} ({reason}): "
            "is the service running? start it with `dynas serve`"
        )

    # -- operations -----------------------------------------------------------------------
    def healthz(self) -> dict[str, Any]:
        """``GET /healthz``: ``{"status", "ray", "mlflow"}``."""
        return dict(self._json("GET", "/healthz"))

    def metrics(self) -> str:
        """``GET /metrics``: the Prometheus text exposition."""
        return self._send("GET", "/metrics").text

    # -- datasets -------------------------------------------------------------------------
    def upload_dataset(
        self, path: str | os.PathLike[str], *, target: str | None = None, task: str | None = None
    ) -> dict[str, Any]:
        """``POST /datasets`` with a local ``.npz``/``.csv``/``.parquet`` file; the DatasetInfo."""
        file_path = Path(path)
        form = {key: value for key, value in (("target", target), ("task", task)) if value}
        with file_path.open("rb") as handle:
            files = {"file": (file_path.name, handle, "application/octet-stream")}
            return dict(self._json("POST", "/datasets", files=files, data=form))

    def list_datasets(self) -> list[dict[str, Any]]:
        """``GET /datasets``."""
        return _as_list(self._json("GET", "/datasets"), "datasets")

    def get_dataset(self, dataset_id: str) -> dict[str, Any]:
        """``GET /datasets/{id}``."""
        return dict(self._json("GET", f"/datasets/{_segment(dataset_id)}"))

    def delete_dataset(self, dataset_id: str) -> None:
        """``DELETE /datasets/{id}``."""
        self._send("DELETE", f"/datasets/{_segment(dataset_id)}")

    # -- jobs -----------------------------------------------------------------------------
    def submit_job(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /jobs`` with a JobSpec (only ``dataset`` is required); the new Job."""
        return dict(self._json("POST", "/jobs", json=dict(spec)))

    def list_jobs(self) -> list[dict[str, Any]]:
        """``GET /jobs``: every Job, newest first."""
        return _as_list(self._json("GET", "/jobs"), "jobs")

    def get_job(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}``."""
        return dict(self._json("GET", f"/jobs/{_segment(job_id)}"))

    def stop_job(self, job_id: str) -> Any:
        """``POST /jobs/{id}/stop`` (202 while stopping, 200 no-op when already ended)."""
        return self._json("POST", f"/jobs/{_segment(job_id)}/stop")

    def resume_job(self, job_id: str, budget: Mapping[str, Any] | None = None) -> Any:
        """``POST /jobs/{id}/resume``, optionally with a new budget (``{"seconds": 60}``)."""
        body = {"budget": dict(budget)} if budget is not None else None
        return self._json("POST", f"/jobs/{_segment(job_id)}/resume", json=body)

    def delete_job(self, job_id: str) -> None:
        """``DELETE /jobs/{id}`` (409 while the job runs)."""
        self._send("DELETE", f"/jobs/{_segment(job_id)}")

    def trials(self, job_id: str) -> list[dict[str, Any]]:
        """``GET /jobs/{id}/trials``: trials with lineage (``parent_trial_id``)."""
        return _as_list(self._json("GET", f"/jobs/{_segment(job_id)}/trials"), "trials")

    def trace(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}/trace``: ``{"metric", "higher_is_better", "points": [...]}``."""
        return dict(self._json("GET", f"/jobs/{_segment(job_id)}/trace"))

    def trace_png(self, job_id: str) -> bytes:
        """``GET /jobs/{id}/trace.png``: the PNG bytes."""
        return self._send("GET", f"/jobs/{_segment(job_id)}/trace.png").content

    def best(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}/best``: the BestSummary (404 until an epoch has finished)."""
        return dict(self._json("GET", f"/jobs/{_segment(job_id)}/best"))

    def predict(self, job_id: str, inputs: Sequence[Any]) -> dict[str, Any]:
        """``POST /jobs/{id}/predict`` with raw inputs; ``{"predictions", "probabilities"?}``."""
        path = f"/jobs/{_segment(job_id)}/predict"
        return dict(self._json("POST", path, json={"inputs": list(inputs)}))

    def download_model(
        self,
        job_id: str,
        path: str | os.PathLike[str] | None = None,
        format: ModelFormat = "torchscript",
    ) -> Path:
        """Stream ``GET /jobs/{id}/best/model?format=...`` into ``path``; return the path.

        ``path`` defaults to the server's file name (``<job_id>-best-v<k>.<pt|zip|onnx>``,
        else ``<job_id>-best.<ext>``) in the working directory; an existing directory gets
        that name inside it. The file appears atomically (written to
        a temporary sibling, then renamed), so a failed download leaves nothing behind.
        """
        if format not in MODEL_FORMATS:
            raise ValueError(f"format must be one of {MODEL_FORMATS}, got {format=}")
        url = f"/jobs/{_segment(job_id)}/best/model"
        try:
            with self._http.stream("GET", url, params={"format": format}) as response:
                if response.is_error:
                    response.read()
                    _raise_for_status(response)
                name = _attachment_name(response) or f"{job_id}-best{MODEL_SUFFIXES[format]}"
                target = _download_target(name, path)
                _write_stream(response, target)
        except httpx.TransportError as exc:
            raise self._connection_error(exc) from exc
        return target


def _raise_for_status(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        body = response.json()
        detail = body.get("detail", body) if isinstance(body, dict) else body
    except ValueError:
        detail = response.text.strip() or response.reason_phrase
    raise DynasAPIError(response.status_code, detail)


def _as_list(payload: Any, key: str) -> list[dict[str, Any]]:
    """A list endpoint's items, whether the server sends a bare list or ``{key: [...]}``."""
    if isinstance(payload, dict):
        payload = payload.get(key, [])
    return list(payload or [])


def _attachment_name(response: httpx.Response) -> str | None:
    """The file name the server suggests (``Content-Disposition``), reduced to a bare name."""
    disposition = response.headers.get("content-disposition", "")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    if not match:
        return None
    name = Path(match.group(1).strip()).name
    return name if name not in ("", ".", "..") else None


def _download_target(name: str, path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        return Path(name)
    target = Path(path)
    return target / name if target.is_dir() else target


def _write_stream(response: httpx.Response, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in response.iter_bytes():
                handle.write(chunk)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
