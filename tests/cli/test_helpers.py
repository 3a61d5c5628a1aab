"""Pure helpers of the CLI: spec merging, input files, progress line, local commands."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dynas_service.cli import app, serve
from dynas_service.cli.inputs import load_inputs, merge_spec, parse_options
from dynas_service.cli.output import duration
from dynas_service.cli.watch import LineWriter, progress_fraction, progress_line
from dynas_service.settings import Settings
from tests.cli.fake_service import make_job


def test_merge_spec_keeps_the_file_and_puts_flags_on_top() -> None:
    base = {"dataset": "digits", "model": {"family": "cnn", "hidden_layers": 3}, "seed": 1}
    merged = merge_spec(base, {"hidden_layers": 5, "seed": None, "seconds": 10.0})
    assert merged == {"dataset": "digits", "model": {"family": "cnn", "hidden_layers": 5},
                      "seed": 1, "budget": {"seconds": 10.0}}  # fmt: skip
    assert base["model"]["hidden_layers"] == 3  # the input is not modified
    with pytest.raises(ValueError, match="unknown spec flag"):
        merge_spec(base, {"colour": "red"})


def test_parse_options_types_values_and_rejects_garbage() -> None:
    assert parse_options(["a=1", "b=0.5", "c=true", "d=text", "e=[1,2]"]) == {
        "a": 1, "b": 0.5, "c": True, "d": "text", "e": [1, 2]}  # fmt: skip
    with pytest.raises(ValueError, match="key=value"):
        parse_options(["novalue"])


def test_load_inputs_errors_name_the_file(tmp_path: Path) -> None:
    bad_csv = tmp_path / "x.csv"
    bad_csv.write_text("1,2\n3,oops\n")
    with pytest.raises(ValueError, match="row 2 is not all numbers"):
        load_inputs(bad_csv)
    empty = tmp_path / "e.json"
    empty.write_text("[]")
    with pytest.raises(ValueError, match="no input rows"):
        load_inputs(empty)
    broken = tmp_path / "b.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_inputs(broken)
    images = tmp_path / "img.json"
    images.write_text("[[[[0, 1], [2, 3]]]]")
    assert load_inputs(images) == [[[[0, 1], [2, 3]]]]


def test_progress_fraction_uses_the_tighter_budget() -> None:
    job = make_job("j", {"dataset": "digits", "budget": {"seconds": 100, "trials": 10}})
    job["elapsed_s"], job["trials"]["finished"] = 20.0, 5
    assert progress_fraction(job) == pytest.approx(0.5)
    job["spec"]["budget"] = {"seconds": None, "trials": None}
    assert progress_fraction(job) is None
    assert "no limit" in progress_line(job)
    job["spec"]["budget"] = {"seconds": 10}
    job["elapsed_s"] = 50.0
    assert progress_fraction(job) == 1.0


def test_duration_formats() -> None:
    assert [duration(x) for x in (None, 0, 75.4, 3725)] == ["-", "00:00", "01:15", "1:02:05"]


def test_mlflow_ui_command_points_at_the_service_store(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    command = serve.mlflow_ui_command(settings, 5555)
    assert command[:4] == [sys.executable, "-m", "mlflow", "ui"]
    pairs = dict(zip(command[4::2], command[5::2], strict=True))
    assert pairs == {
        "--backend-store-uri": f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}",
        "--default-artifact-root": str(tmp_path.resolve() / "mlartifacts"),
        "--host": "127.0.0.1", "--port": "5555", "--workers": "1",
    }  # fmt: skip
    assert serve._mlflow_env()["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    with pytest.raises(ValueError, match="switched off"):
        serve.mlflow_ui_command(Settings(data_dir=tmp_path, mlflow_tracking_uri=""), 1)
    with pytest.raises(ValueError, match="already runs as a server"):
        serve.mlflow_ui_command(Settings(mlflow_tracking_uri="http://mlflow:5000"), 1)


def test_serve_builds_settings_from_flags_and_runs_the_app(monkeypatch, tmp_path) -> None:
    import uvicorn

    import dynas_service.api as api

    seen: dict = {}
    monkeypatch.setattr(api, "create_app", lambda s: seen.setdefault("settings", s) and "APP",
                        raising=False)  # fmt: skip
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setenv("DYNAS_MAX_UPLOAD_MB", "7")
    result = CliRunner().invoke(
        app, ["serve", "--port", "8123", "--data-dir", str(tmp_path), "--host", "0.0.0.0"]
    )
    assert result.exit_code == 0, result.output
    settings = seen["settings"]
    assert (settings.port, settings.data_dir, settings.max_upload_mb) == (8123, tmp_path, 7)
    assert (seen["app"], seen["host"], seen["port"]) == ("APP", "0.0.0.0", 8123)
    assert "without DYNAS_API_TOKEN" in result.stderr
    invalid = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert invalid.exit_code == 2 and "port" in invalid.stderr


def test_bench_anytime_forwards_every_argument(monkeypatch, tmp_path: Path) -> None:
    package = tmp_path / "benchmarks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "anytime.py").write_text(
        "import sys, pathlib\n"
        "pathlib.Path('argv.txt').write_text(' '.join(sys.argv[1:]))\n"
        "sys.exit(4)\n"
    )
    assert serve.benchmark_root("anytime", [tmp_path / "nope", tmp_path]) == tmp_path
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["bench", "anytime", "--algorithms", "random", "--help"])
    assert result.exit_code == 4
    assert (tmp_path / "argv.txt").read_text() == "--algorithms random --help"


def test_bench_anytime_missing_module_is_a_clear_message(monkeypatch, tmp_path) -> None:
    assert serve.benchmark_root("anytime", [tmp_path]) is None
    monkeypatch.setattr(serve, "benchmark_root", lambda module: None)
    result = CliRunner().invoke(app, ["bench", "anytime", "--x"])
    assert result.exit_code == 2
    assert "benchmarks.anytime is not here" in result.stderr


HEAVY = ("torch", "ray", "mlflow", "fastapi", "uvicorn", "pydantic_settings", "pandas")


def test_client_commands_import_nothing_heavy() -> None:
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from dynas_service.cli import app\n"
        "r = CliRunner().invoke(app, ['--url', 'http://127.0.0.1:1', 'list'])\n"
        "assert r.exit_code == 3, r.output\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60)  # fmt: skip
    assert out.stdout.strip() == "[]"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_writer_rewrites_one_line_on_a_tty_and_logs_changes_otherwise() -> None:
    tty = _Tty()
    writer = LineWriter(tty)
    writer.show("running  00:01/00:10  best accuracy=0.5000")
    writer.show("running  00:02/00:10  best -")
    writer.finish()
    assert tty.getvalue().count("\n") == 1 and tty.getvalue().count("\r") == 2
    assert tty.getvalue().endswith("best -" + " " * 14 + "\n")  # the longer line is blanked
    log = io.StringIO()
    writer = LineWriter(log)
    for line in ["running  00:01/00:10  best -", "running  00:02/00:10  best -",
                 "running  00:03/00:10  best accuracy=0.5"]:  # fmt: skip
        writer.show(line)
    assert log.getvalue().splitlines() == [
        "running  00:01/00:10  best -", "running  00:03/00:10  best accuracy=0.5"]  # fmt: skip
