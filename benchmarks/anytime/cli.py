"""``python -m benchmarks.anytime [options]`` (also ``dynas bench anytime [options]``).

Runs every method on every dataset and seed with the same budget and CPUs, one after the
other, then writes ``report.md``, ``summary.json`` and PNGs next to the run files in
``--out`` (default ``benchmarks/out/anytime/<UTC timestamp>/``). Re-running with the same
``--out`` skips finished runs, so method groups can be added to one comparison later;
``--report-only`` just rebuilds the report from the run files there.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.anytime.config import LEARNING_RATE, BenchConfig
from benchmarks.anytime.datasets import KNOWN_DATASETS
from benchmarks.anytime.methods import METHODS, resolve_methods

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "out" / "anytime"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.anytime",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--methods",
        default="default",
        help="comma list of methods or groups: default (dynas-evolution, dynas-random and every "
        "stock method), stock, dynas, all; methods: " + ", ".join(METHODS),
    )
    p.add_argument(
        "--datasets",
        default=",".join(KNOWN_DATASETS),
        help=f"comma list from {', '.join(KNOWN_DATASETS)}",
    )
    p.add_argument("--seeds", type=int, default=2, help="number of seeds (default 2)")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument(
        "--budget", type=float, default=60.0, help="wall-clock seconds per run (default 60)"
    )
    p.add_argument("--cpus", type=int, default=2, help="CPUs every method gets (default 2)")
    p.add_argument(
        "--gpus-per-trial",
        type=float,
        default=0.0,
        help="GPUs per trial on a GPU machine (Ray gets int(gpus) GPUs)",
    )
    p.add_argument(
        "--max-epochs",
        type=int,
        default=50,
        help="epoch cap of a stock Tune/Optuna trial, ASHA's max_t (default 50)",
    )
    p.add_argument("--puzzle8-sample", type=float, default=0.1)
    p.add_argument("--static-regularizer", choices=("none", "l1"), default="none")
    p.add_argument("--pbt-population", type=int, default=8)
    p.add_argument(
        "--learning-rate",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        default=list(LEARNING_RATE),
        help="learning-rate range every method searches, uniform (default the thesis' "
        f"{LEARNING_RATE[0]:g} {LEARNING_RATE[1]:g})",
    )
    p.add_argument("--out", type=Path, default=None, help="output folder (see above)")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_OUT / "data",
        help="dataset cache and the uploaded tabular set",
    )
    p.add_argument("--rerun", action="store_true", help="repeat runs whose file exists")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="only rebuild the report from the run files in --out",
    )
    return p


def config_from_args(args: argparse.Namespace, out_dir: Path) -> BenchConfig:
    return BenchConfig(
        out_dir=out_dir,
        data_dir=args.data_dir,
        datasets=tuple(d.strip() for d in args.datasets.split(",") if d.strip()),
        methods=resolve_methods(args.methods),
        seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)),
        budget_s=args.budget,
        cpus=args.cpus,
        gpus_per_trial=args.gpus_per_trial,
        max_epochs=args.max_epochs,
        puzzle8_sample=args.puzzle8_sample,
        static_regularizer=args.static_regularizer,
        pbt_population=args.pbt_population,
        learning_rate=(args.learning_rate[0], args.learning_rate[1]),
    )


def _meta(
    out_dir: Path, config: BenchConfig, command: str | None, started: float, load_start: list
) -> dict:
    """``meta.json``: settings, machine, versions; accumulates over invocations that add
    runs to the same folder (``command`` None: a report-only invocation adds nothing)."""
    from benchmarks.anytime.machine import load_average, machine, versions

    path = out_dir / "meta.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    commands = [*previous.get("commands", []), *([command] if command else [])]
    loads = [*previous.get("loads", []), *([[load_start, load_average()]] if command else [])]
    minutes = (time.time() - started) / 60 if command else 0.0
    meta = {
        "command": " && ".join(dict.fromkeys(commands)),
        "commands": commands,
        "config": previous.get("config") if not command else config.to_dict(),
        "machine": previous.get("machine") or machine(),
        "versions": versions(),
        "loads": loads,
        "started": previous.get("started")
        or datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "elapsed_min": previous.get("elapsed_min", 0.0) + minutes,
    }
    meta["config"] = meta["config"] or config.to_dict()
    path.write_text(json.dumps(meta, indent=1))
    return meta


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = (args.out or DEFAULT_OUT / stamp).resolve()
    try:
        config = config_from_args(args, out_dir)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    from benchmarks.anytime.machine import load_average

    started, load_start = time.time(), load_average()
    command = shlex.join(["python", "-m", "benchmarks.anytime", *(argv or sys.argv[1:])])
    if not args.report_only:
        from benchmarks.anytime.runner import run_benchmark

        run_benchmark(config, skip_existing=not args.rerun)
    meta = _meta(out_dir, config, None if args.report_only else command, started, load_start)
    from benchmarks.anytime.aggregate import load_records, summarize
    from benchmarks.anytime.report import write_report

    records = [r for r in load_records(out_dir) if r.dataset in config.datasets]
    if not records:
        print(f"error: no run files under {out_dir / 'runs'}", file=sys.stderr)
        return 1
    path = write_report(out_dir, summarize(records), meta)
    print(path.read_text())
    print(f"\nreport: {path}")
    return 0
