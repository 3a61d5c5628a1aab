"""DynasClient against the contract, through an in-memory transport (no server)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dynas_service.client import (
    DynasAPIError,
    DynasClient,
    DynasConnectionError,
    format_detail,
)
from tests.cli.fake_service import BEST, MODEL_BYTES, PNG, FakeService


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def client(service: FakeService) -> DynasClient:
    return DynasClient("http://dynas.test", transport=service.transport())


def test_submit_posts_the_spec_as_json_and_returns_the_job(service, client) -> None:
    job = client.submit_job({"dataset": "digits", "budget": {"seconds": 30}})

    request = service.requests[-1]
    assert (request.method, request.url.path) == ("POST", "/jobs")
    assert json.loads(request.content) == {"dataset": "digits", "budget": {"seconds": 30}}
    assert job["id"] in service.jobs
    assert client.get_job(job["id"])["spec"]["dataset"] == "digits"
    assert [j["id"] for j in client.list_jobs()] == [job["id"]]


def test_every_job_endpoint_hits_its_contract_path(service, client) -> None:
    job_id = client.submit_job({"dataset": "digits"})["id"]
    service.jobs[job_id]["best"] = BEST
    calls = [
        (lambda: client.best(job_id), "GET", f"/jobs/{job_id}/best"),
        (lambda: client.trials(job_id), "GET", f"/jobs/{job_id}/trials"),
        (lambda: client.trace(job_id), "GET", f"/jobs/{job_id}/trace"),
        (lambda: client.trace_png(job_id), "GET", f"/jobs/{job_id}/trace.png"),
        (lambda: client.predict(job_id, [[1, 2]]), "POST", f"/jobs/{job_id}/predict"),
        (lambda: client.stop_job(job_id), "POST", f"/jobs/{job_id}/stop"),
        (lambda: client.resume_job(job_id), "POST", f"/jobs/{job_id}/resume"),
        (lambda: client.healthz(), "GET", "/healthz"),
        (lambda: client.metrics(), "GET", "/metrics"),
        (lambda: client.list_datasets(), "GET", "/datasets"),
        (lambda: client.get_dataset("ds1"), "GET", "/datasets/ds1"),
        (lambda: client.delete_dataset("ds1"), "DELETE", "/datasets/ds1"),
    ]
    for call, method, path in calls:
        call()
        assert (service.requests[-1].method, service.requests[-1].url.path) == (method, path)
    assert client.best(job_id) == BEST
    assert client.trials(job_id)[1]["parent_trial_id"] == "t1"
    assert client.trace_png(job_id) == PNG
    assert client.metrics().startswith("dynas_jobs")


def test_resume_sends_the_new_budget_and_no_body_without_one(service, client) -> None:
    job_id = client.submit_job({"dataset": "digits"})["id"]
    client.resume_job(job_id)
    assert service.requests[-1].content == b""
    client.resume_job(job_id, {"seconds": 90})
    assert json.loads(service.requests[-1].content) == {"budget": {"seconds": 90}}
    assert service.jobs[job_id]["spec"]["budget"] == {"seconds": 90}


def test_predict_sends_inputs_and_returns_predictions(service, client) -> None:
    job_id = client.submit_job({"dataset": "digits"})["id"]
    result = client.predict(job_id, [[0.0] * 3, [1.0] * 4])
    assert json.loads(service.requests[-1].content) == {"inputs": [[0.0] * 3, [1.0] * 4]}
    assert result["predictions"] == [3, 4]


def test_ids_cannot_escape_their_path_segment(service, client) -> None:
    with pytest.raises(DynasAPIError) as info:
        client.get_job("../datasets")
    assert service.requests[-1].url.raw_path == b"/jobs/..%2Fdatasets"
    assert info.value.status_code == 404
    with pytest.raises(ValueError, match="non-empty"):
        client.get_job("")


def test_download_streams_the_model_into_the_file(service, client, tmp_path: Path) -> None:
    job_id = client.submit_job({"dataset": "digits"})["id"]
    path = client.download_model(job_id, tmp_path / "m.zip", format="safetensors")
    assert path.read_bytes() == MODEL_BYTES
    assert service.requests[-1].url.params["format"] == "safetensors"
    into_dir = client.download_model(job_id, tmp_path)
    assert into_dir == tmp_path / f"{job_id}-best-v3.bin"  # the server's name, made safe
    assert into_dir.read_bytes() == MODEL_BYTES


def test_failed_download_leaves_no_file(client, tmp_path: Path) -> None:
    with pytest.raises(DynasAPIError) as info:
        client.download_model("missing", tmp_path / "m.pt")
    assert info.value.status_code == 404
    assert "not found" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="format"):
        client.download_model("x", tmp_path / "m", format="pickle")  # type: ignore[arg-type]


def test_errors_carry_status_and_the_servers_detail(client) -> None:
    with pytest.raises(DynasAPIError) as info:
        client.submit_job({"dataset": "nope"})
    assert info.value.status_code == 422
    assert info.value.detail[0]["loc"] == ["body", "dataset"]
    assert str(info.value) == "HTTP 422: dataset: unknown dataset 'nope'"
    job_id = client.submit_job({"dataset": "digits"})["id"]
    with pytest.raises(DynasAPIError, match="no epoch has finished yet") as info:
        client.best(job_id)
    assert info.value.status_code == 404


def test_non_json_error_bodies_become_the_detail() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(502, text="bad gateway\n"))
    with pytest.raises(DynasAPIError) as info:
        DynasClient("http://x", transport=transport).list_jobs()
    assert (info.value.status_code, info.value.detail) == (502, "bad gateway")


def test_format_detail_handles_strings_lists_and_other() -> None:
    assert format_detail("plain") == "plain"
    items = [{"loc": ["body", "budget", "seconds"], "msg": "must be > 0"}, {"msg": "x"}]
    assert format_detail(items) == "budget.seconds: must be > 0; x"
    assert format_detail({"a": 1}) == "{'a': 1}"


def test_token_is_sent_as_bearer_and_401_without_it() -> None:
    service = FakeService(token="s3cret")
    with pytest.raises(DynasAPIError) as info:
        DynasClient("http://x", transport=service.transport()).list_jobs()
    assert info.value.status_code == 401
    client = DynasClient("http://x", token="s3cret", transport=service.transport())
    assert client.list_jobs() == []
    assert service.requests[-1].headers["authorization"] == "Bearer s3cret"


def test_url_and_token_come_from_the_environment(monkeypatch) -> None:
    service = FakeService(token="from-env")
    monkeypatch.setenv("DYNAS_URL", "http://elsewhere:9000/")
    monkeypatch.setenv("DYNAS_API_TOKEN", "from-env")
    client = DynasClient(transport=service.transport())
    assert client.base_url == "http://elsewhere:9000"
    client.healthz()
    assert str(service.requests[-1].url) == "http://elsewhere:9000/healthz"
    assert service.requests[-1].headers["authorization"] == "Bearer from-env"


def test_no_token_means_no_authorization_header(monkeypatch, service) -> None:
    monkeypatch.delenv("DYNAS_API_TOKEN", raising=False)
    DynasClient("http://x", transport=service.transport()).healthz()
    assert "authorization" not in service.requests[-1].headers


def test_upload_is_multipart_with_target_and_task(service, client, tmp_path: Path) -> None:
    data = tmp_path / "iris.csv"
    data.write_text("a,b,label\n1,2,0\n3,4,1\n")
    info = client.upload_dataset(data, target="label", task="classification")
    request = service.requests[-1]
    assert request.headers["content-type"].startswith("multipart/form-data")
    body = request.content
    assert b'name="file"; filename="iris.csv"' in body
    assert b"1,2,0" in body
    assert b'name="target"' in body and b"label" in body
    assert b'name="task"' in body
    assert info["id"] == "ds1"


def test_connection_refused_says_how_to_start_the_service() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = DynasClient("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))
    with pytest.raises(DynasConnectionError, match="dynas serve"):
        client.list_jobs()
    with pytest.raises(DynasConnectionError, match="is the service running"):
        client.download_model("j", "/nonexistent-dir-never-created/x.pt")


def test_invalid_timeout_is_rejected() -> None:
    with pytest.raises(ValueError, match="timeout"):
        DynasClient("http://x", timeout=0)


def test_download_without_a_server_file_name_uses_the_job_id(tmp_path: Path, monkeypatch) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=b"onnx-bytes"))
    monkeypatch.chdir(tmp_path)
    path = DynasClient("http://x", transport=transport).download_model("j9", format="onnx")
    assert path == Path("j9-best.onnx")
    assert (tmp_path / "j9-best.onnx").read_bytes() == b"onnx-bytes"
