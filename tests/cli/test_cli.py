"""The ``dynas`` commands through typer's CliRunner, against the in-memory service."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from dynas_service.cli import app
from dynas_service.cli._state import CliState
from tests.cli.fake_service import BEST, MODEL_BYTES, FakeService, make_job


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def run(service: FakeService, monkeypatch):
    monkeypatch.delenv("DYNAS_API_TOKEN", raising=False)
    monkeypatch.delenv("DYNAS_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str):
        state = CliState(transport=service.transport())
        return runner.invoke(app, list(args), obj=state)

    return invoke


def add_job(service: FakeService, status: str = "running", best: bool = True) -> str:
    service.jobs["j1"] = make_job("j1", {"dataset": "digits"}, status=status)
    service.jobs["j1"]["best"] = BEST if best else None
    return "j1"


def test_submit_prints_the_id_and_sends_only_given_fields(run, service) -> None:
    flags = ["--algorithm", "random", "--seconds", "30", "--static", "--seed", "3"]
    result = run("submit", "-d", "digits", *flags, "--option", "patience=4", "--option", "mode=x")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "job1"
    sent = json.loads(service.requests[-1].content)
    assert sent == {
        "dataset": "digits", "algorithm": "random", "budget": {"seconds": 30.0},
        "model": {"dynamic": False}, "seed": 3,
        "algorithm_options": {"patience": 4, "mode": "x"},
    }  # fmt: skip


def test_submit_from_yaml_spec_with_flag_override(run, service, tmp_path: Path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("dataset: puzzle8\nmodel:\n  family: mlp\nbudget:\n  seconds: 60\n")
    result = run("submit", "--spec", str(spec), "--trials", "5", "--no-time-limit", "--json")
    assert result.exit_code == 0, result.output
    sent = json.loads(service.requests[-1].content)
    assert sent == {"dataset": "puzzle8", "model": {"family": "mlp"},
                    "budget": {"seconds": None, "trials": 5}}  # fmt: skip
    assert json.loads(result.stdout)["spec"]["dataset"] == "puzzle8"


def test_submit_without_dataset_or_with_bad_spec_is_a_usage_error(run, service, tmp_path) -> None:
    result = run("submit", "--seconds", "5")
    assert result.exit_code == 2
    assert "needs a dataset" in result.stderr
    bad = tmp_path / "job.json"
    bad.write_text("[1, 2]")
    result = run("submit", "--spec", str(bad))
    assert result.exit_code == 2 and "mapping" in result.stderr
    assert service.requests == []


def test_server_validation_error_is_one_line_naming_the_field(run) -> None:
    result = run("submit", "-d", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: HTTP 422: dataset: unknown dataset 'nope'"


def test_list_status_and_best_human_and_json(run, service) -> None:
    job_id = add_job(service)
    listing = run("list")
    assert listing.exit_code == 0
    assert "j1" in listing.stdout and "running" in listing.stdout
    assert "accuracy=0.9812" in listing.stdout
    assert [j["id"] for j in json.loads(run("list", "--json").stdout)] == ["j1"]
    status = run("status", job_id)
    assert "2 running, 7 finished" in status.stdout and "00:12 / 10:00" in status.stdout
    assert json.loads(run("status", job_id, "--json").stdout)["status"] == "running"
    best = run("best", job_id)
    assert "0.9812" in best.stdout and "[19, 14, 18]" in best.stdout
    assert json.loads(run("best", job_id, "--json").stdout) == BEST


def test_best_before_the_first_epoch_is_a_clear_404(run, service) -> None:
    job_id = add_job(service, best=False)
    result = run("best", job_id)
    assert result.exit_code == 1
    assert "404" in result.stderr and "no epoch has finished yet" in result.stderr


def test_unknown_job_exits_non_zero(run) -> None:
    result = run("status", "nope")
    assert result.exit_code == 1 and "not found" in result.stderr


def test_watch_follows_until_the_job_ends(run, service) -> None:
    job_id = add_job(service, status="queued", best=False)
    service.status_script = ["queued", "running", "running", "finished"]
    result = run("watch", job_id, "--interval", "0.1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("queued") and "best -" in lines[0]
    assert lines[-1].startswith("finished")
    assert "accuracy=0.9812" in lines[-1] and "layers [19, 14, 18]" in lines[-1]
    assert "2 running, 7 done" in lines[-1]


def test_watch_exits_1_when_the_job_failed_and_stops_at_timeout(run, service) -> None:
    job_id = add_job(service, status="running")
    service.status_script = ["failed"]
    service.jobs[job_id]["error"] = "trainer crashed"
    result = run("watch", job_id, "--interval", "0.1")
    assert result.exit_code == 1 and "trainer crashed" in result.stderr
    service.status_script = ["running"]
    result = run("watch", job_id, "--interval", "0.1", "--timeout", "0.3")
    assert result.exit_code == 0 and "after --timeout" in result.stderr
    assert service.jobs[job_id]["status"] == "running"


def test_ctrl_c_stops_watching_and_leaves_the_job_alone(run, service) -> None:
    job_id = add_job(service, status="running")
    service.status_script = ["running", "CTRL-C"]
    result = run("watch", job_id, "--interval", "0.1")
    assert result.exit_code == 130
    assert f"job {job_id} keeps running" in result.stderr
    assert service.jobs[job_id]["status"] == "running"
    assert not any(r.method != "GET" for r in service.requests)


def test_download_writes_the_file(run, service, tmp_path: Path) -> None:
    job_id = add_job(service)
    target = tmp_path / "model.onnx"
    result = run("download", job_id, "--format", "onnx", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == MODEL_BYTES
    assert service.requests[-1].url.params["format"] == "onnx"
    bad = run("download", job_id, "--format", "pickle")
    assert bad.exit_code == 2 and "torchscript" in bad.stderr


@pytest.mark.parametrize("kind", ["json", "csv", "npy"])
def test_predict_reads_json_csv_and_npy(run, service, tmp_path: Path, kind: str) -> None:
    job_id = add_job(service)
    rows = [[0.5, 1.0, 2.0], [3.0, 4.0, 5.0]]
    path = tmp_path / f"x.{kind}"
    if kind == "json":
        path.write_text(json.dumps({"inputs": rows}))
    elif kind == "csv":
        path.write_text("a,b,c\n0.5,1,2\n3,4,5\n")
    else:
        np.save(path, np.asarray(rows, dtype=np.float32))
    result = run("predict", job_id, "--input", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(service.requests[-1].content) == {"inputs": rows}
    assert result.stdout.splitlines() == ["0\t3  (p=0.900)", "1\t3  (p=0.900)"]


def test_predict_refuses_pickled_npy_and_unknown_suffix(run, service, tmp_path: Path) -> None:
    job_id = add_job(service)
    pickled = tmp_path / "x.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    result = run("predict", job_id, "--input", str(pickled))
    assert result.exit_code == 2 and "pickle" in result.stderr.lower()
    other = tmp_path / "x.txt"
    other.write_text("1,2")
    assert run("predict", job_id, "--input", str(other)).exit_code == 2
    assert not any(r.url.path.endswith("/predict") for r in service.requests)


def test_stop_resume_delete(run, service) -> None:
    job_id = add_job(service, status="running")
    refused = run("delete", job_id)
    assert refused.exit_code == 1 and "409" in refused.stderr
    assert run("stop", job_id).stdout.strip() == f"job {job_id}: stopped"
    resumed = run("resume", job_id, "--seconds", "120")
    assert resumed.stdout.strip() == f"job {job_id}: running"
    assert service.jobs[job_id]["spec"]["budget"] == {"seconds": 120.0}
    run("stop", job_id)
    assert run("delete", job_id).exit_code == 0
    assert job_id not in service.jobs


def test_datasets_upload_and_list(run, service, tmp_path: Path) -> None:
    data = tmp_path / "iris.csv"
    data.write_text("a,b,label\n1,2,0\n3,4,1\n")
    result = run("datasets", "upload", str(data), "--target", "label")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ds1"
    assert b'name="target"' in service.requests[-1].content
    listing = run("datasets", "list")
    assert "iris.csv" in listing.stdout and "classification" in listing.stdout
    assert json.loads(run("datasets", "list", "--json").stdout)[0]["n_classes"] == 3
    big = tmp_path / "big.csv"
    big.write_text("a\n1\n")
    too_big = run("datasets", "upload", str(big))
    assert too_big.exit_code == 1 and "413" in too_big.stderr


def test_trials_trace_and_health(run, service, tmp_path: Path) -> None:
    job_id = add_job(service)
    trials = run("trials", job_id)
    assert "t2" in trials.stdout and "t1" in trials.stdout.splitlines()[2]
    png = tmp_path / "trace.png"
    trace = run("trace", job_id, "--png", str(png))
    assert "accuracy=0.9000" in trace.stdout and png.read_bytes().startswith(b"\x89PNG")
    assert run("health").stdout.strip() == "status: ok  ray: ok (127.0.0.1:6379)  mlflow: ok"


def test_token_option_and_env_reach_the_server(service, monkeypatch) -> None:
    service.token = "tok"
    monkeypatch.delenv("DYNAS_API_TOKEN", raising=False)
    runner = CliRunner()
    denied = runner.invoke(app, ["list"], obj=CliState(transport=service.transport()))
    assert denied.exit_code == 1 and "401" in denied.stderr
    allowed = runner.invoke(app, ["--token", "tok", "list"],
                            obj=CliState(transport=service.transport()))  # fmt: skip
    assert allowed.exit_code == 0, allowed.output
    monkeypatch.setenv("DYNAS_API_TOKEN", "tok")
    from_env = runner.invoke(app, ["list"], obj=CliState(transport=service.transport()))
    assert from_env.exit_code == 0


def test_connection_refused_is_one_clear_line_and_exit_3(monkeypatch) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.delenv("DYNAS_API_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["--url", f"http://127.0.0.1:{port}", "list"])
    assert result.exit_code == 3
    assert "is the service running? start it with `dynas serve`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
