"""The CLI over real HTTP: a small in-test FastAPI app on a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dynas_service.cli import app as cli_app
from tests.cli.live_server import live_server

pytestmark = pytest.mark.server
TOKEN = "t0ken"
CHUNK = b"0123456789abcdef" * 4096  # 64 KiB per chunk


def mini_app():
    from fastapi import Depends, FastAPI, Header, HTTPException
    from fastapi.responses import StreamingResponse

    polls = {"n": 0}

    def auth(authorization: str | None = Header(default=None)) -> None:
        if authorization != f"Bearer {TOKEN}":
            raise HTTPException(401, "missing or wrong bearer token")

    api = FastAPI(dependencies=[Depends(auth)])

    @api.post("/jobs", status_code=201)
    def submit(spec: dict) -> dict:
        return {"id": "live1", "status": "queued", "spec": spec}

    @api.get("/jobs/{job_id}")
    def get_job(job_id: str) -> dict:
        polls["n"] += 1
        status = "finished" if polls["n"] >= 3 else "running"
        return {"id": job_id, "status": status, "elapsed_s": 1.0 * polls["n"],
                "spec": {"budget": {"seconds": 3}}, "trials": {"running": 1, "finished": 2},
                "best": {"metric": "accuracy", "value": 0.5, "layer_sizes": [3, 2]}}  # fmt: skip

    @api.get("/jobs/{job_id}/best/model")
    def model(job_id: str, format: str = "torchscript") -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            for _ in range(8):
                yield CHUNK

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    return api


def test_submit_watch_download_over_real_http(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DYNAS_API_TOKEN", raising=False)
    runner = CliRunner()
    with live_server(mini_app()) as url:
        denied = runner.invoke(cli_app, ["--url", url, "status", "live1"])
        assert denied.exit_code == 1
        assert "401" in denied.stderr and "bearer token" in denied.stderr
        base = ["--url", url, "--token", TOKEN]
        submitted = runner.invoke(cli_app, [*base, "submit", "-d", "digits", "--watch"])
        assert submitted.exit_code == 0, submitted.output
        lines = submitted.stdout.strip().splitlines()
        assert lines[0] == "live1"
        assert lines[-1].startswith("finished") and "layers [3, 2]" in lines[-1]
        target = tmp_path / "model.pt"
        downloaded = runner.invoke(cli_app, [*base, "download", "live1", "-o", str(target)])
        assert downloaded.exit_code == 0, downloaded.output
        assert target.read_bytes() == CHUNK * 8
