"""The anytime benchmark's bookkeeping on hand-made runs (no Ray, milliseconds)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.anytime.aggregate import ahead_of_all, quality_targets, summarize
from benchmarks.anytime.config import BenchConfig, report_times
from benchmarks.anytime.methods import DEFAULT_METHODS, METHODS, resolve_methods
from benchmarks.anytime.records import EpochLog, EpochPoint, RunRecord
from benchmarks.anytime.report import render, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(
    method: str,
    seed: int,
    points: list[tuple[float, float]],
    *,
    higher: bool = True,
    budget: float = 40.0,
    wall: float = 40.0,
    epoch_s: float = 1.0,
) -> RunRecord:
    framework = METHODS[method].framework
    record = RunRecord(
        method,
        framework,
        "toy",
        seed,
        budget,
        2,
        "accuracy" if higher else "rmse",
        higher,
        wall_s=wall,
    )
    record.epochs = [EpochPoint(t, v, epoch_s, f"t{i}") for i, (t, v) in enumerate(points)]
    return record


def test_trace_keeps_best_so_far_within_budget() -> None:
    run = _run("tune-random", 0, [(5, 0.5), (6, 0.4), (8, 0.7), (45, 0.99)])
    assert run.trace().points == [(5, 0.5), (8, 0.7)]  # 45 s is past the 40 s budget
    lower = _run("tune-random", 0, [(5, 3.0), (6, 3.5), (7, 2.0)], higher=False)
    assert lower.trace().points == [(5, 3.0), (7, 2.0)]


def test_overhead_is_the_idle_share_of_wall_times_cpus() -> None:
    run = _run("optuna-tpe", 0, [(t, 0.5) for t in range(1, 21)], wall=20.0, epoch_s=1.5)
    assert run.overhead() == pytest.approx(1 - 20 * 1.5 / (20.0 * 2))
    assert math.isnan(_run("optuna-tpe", 0, [], wall=0.0).overhead())


def test_record_json_round_trip(tmp_path: Path) -> None:
    run = _run("tune-asha", 1, [(1.5, 0.25), (2.5, 0.75)])
    run.extra = {"ray": "x"}
    run.save(tmp_path / "r.json")
    back = RunRecord.load(tmp_path / "r.json")
    assert back.epochs == run.epochs and back.extra == {"ray": "x"}
    assert back.trace().points == run.trace().points


def test_summary_quality_area_and_verdict() -> None:
    records = [
        _run("dynas-evolution", 0, [(5, 0.8), (20, 0.9)]),
        _run("dynas-evolution", 1, [(10, 0.6), (30, 0.95)]),
        _run("tune-random", 0, [(15, 0.7)]),
        _run("tune-random", 1, [(12, 0.9)]),
    ]
    summary = summarize(records)["toy"]
    assert summary.initial == 0.6  # the worst first result of any run
    assert summary.times == [10.0, 20.0, 30.0, 40.0]
    dyn, rnd = summary.methods["dynas-evolution"], summary.methods["tune-random"]
    assert dyn.quality[10.0] == pytest.approx((0.8 + 0.6) / 2)
    assert rnd.quality[10.0] == pytest.approx(0.6)  # nothing yet -> the floor
    assert dyn.quality[40.0] == pytest.approx((0.9 + 0.95) / 2)
    assert rnd.quality_sd[40.0] == pytest.approx(0.1)
    # seed 0: 0.6 for 5 s, 0.8 for 15 s, 0.9 for 20 s; seed 1: 0.6 for 30 s, 0.95 for 10 s
    expected = ((0.6 * 5 + 0.8 * 15 + 0.9 * 20) + (0.6 * 30 + 0.95 * 10)) / 2 / 40
    assert dyn.mean_quality == pytest.approx(expected)
    assert dyn.first_result_s == pytest.approx(7.5)
    # at 20 s: dynas (0.9 + 0.6) / 2 = 0.75 < random (0.7 + 0.9) / 2 = 0.8
    assert ahead_of_all(summary, "dynas-evolution", ["tune-random"]) == [True, False, True, True]
    assert ahead_of_all(summary, "tune-random", ["dynas-evolution"]) == [False, True, False, False]
    low, high = quality_targets(summary)
    assert low <= high


def test_report_has_a_row_per_method_and_pngs(tmp_path: Path) -> None:
    records = [
        _run("dynas-evolution", 0, [(5, 2.0), (20, 1.5)], higher=False),
        _run("optuna-tpe", 0, [(8, 1.8)], higher=False),
    ]
    summaries = summarize(records)
    meta = {
        "command": "python -m benchmarks.anytime --x",
        "started": "now",
        "elapsed_min": 1.0,
        "machine": {"cpu": "c", "logical_cpus": 2, "memory_gb": 1, "gpu": "none"},
        "versions": {"torch": "1"},
        "loads": [],
        "config": BenchConfig(out_dir=tmp_path, data_dir=tmp_path).to_dict(),
    }
    text = render(summaries, meta)
    assert "| `dynas-evolution` |" in text and "| `optuna-tpe` |" in text
    assert "1.500" in text and "--x" in text
    write_report(tmp_path, summaries, meta)
    for name in ("traces-toy.png", "profile-toy.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "report.md").read_text() == text


def test_method_groups_and_bad_names() -> None:
    assert resolve_methods("default") == DEFAULT_METHODS
    assert resolve_methods("tune-asha,stock")[0] == "tune-asha"
    assert len(resolve_methods("all")) == len(METHODS)
    with pytest.raises(ValueError, match="nope"):
        resolve_methods("nope")


def test_config_validates_and_report_times_fit_the_budget(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="budget_s"):
        BenchConfig(out_dir=tmp_path, data_dir=tmp_path, budget_s=0)
    with pytest.raises(ValueError, match="static_regularizer"):
        BenchConfig(out_dir=tmp_path, data_dir=tmp_path, static_regularizer="l2")
    with pytest.raises(ValueError, match="learning_rate"):
        BenchConfig(out_dir=tmp_path, data_dir=tmp_path, learning_rate=(1e-3, 1e-4))
    assert report_times(45) == [11.2, 22.5, 30.0, 45.0]
    assert report_times(300) == [30.0, 60.0, 75.0, 120.0, 150.0, 300.0]


def test_a_learning_rate_range_reaches_every_framework(tmp_path: Path) -> None:
    """``--learning-rate`` sets the range of dynas, Tune (space, PBT clip) and Optuna alike."""
    from benchmarks.anytime.cli import build_parser, config_from_args
    from benchmarks.anytime.methods.dynas import _space
    from benchmarks.anytime.methods.optuna_tpe import suggest
    from benchmarks.anytime.methods.static_trainable import clip_params
    from benchmarks.anytime.methods.tune_baselines import tune_space

    args = build_parser().parse_args(["--learning-rate", "2e-4", "2e-3", "--methods", "stock"])
    wide = config_from_args(args, tmp_path).learning_rate
    assert wide == (2e-4, 2e-3)
    default = config_from_args(build_parser().parse_args([]), tmp_path).learning_rate
    assert default == (1e-4, 6e-4)

    lr = _space(True, wide).params["learning_rate"]
    assert (lr.low, lr.high) == wide
    domain = tune_space("none", wide)["learning_rate"]
    assert (domain.lower, domain.upper) == wide
    assert clip_params({"learning_rate": 1.0, "batch_size": 32}, wide)["learning_rate"] == 2e-3

    class Trial:  # the part of optuna.Trial that suggest() uses
        def suggest_float(self, name: str, low: float, high: float, log: bool = False) -> float:
            return high if name == "learning_rate" else low

        def suggest_int(self, name: str, low: int, high: int) -> int:
            return low

    assert suggest(Trial(), "none", wide)["learning_rate"] == 2e-3


def test_epoch_log_survives_pickling() -> None:
    import pickle

    log = EpochLog()
    log.add(0.5, 0.1, "a", t=1.0)
    clone = pickle.loads(pickle.dumps(log))
    clone.add(0.6, 0.1, "b", t=2.0)
    assert [p.value for p in clone.points()] == [0.5, 0.6]
