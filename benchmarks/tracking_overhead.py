"""Tracking overhead per epoch: the same simulated job fed to a NullObserver and to an
MlflowObserver (fresh sqlite store), side by side in one process, alternating A/B.

Each "epoch" runs real work (an MLP trained for 36 steps of batch 32 on 64 features, like
an epoch on digits) and then emits the engine's events; an improvement writes the model
zip, as the engine does. 10 individuals x 30 epochs by default (an evolution: 10 slots,
generations of 5 epochs, the worse half cloned from the better half).

    python benchmarks/tracking_overhead.py [--individuals 10] [--epochs 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo, NullObserver
from dynas_service.nn import ArchitectureSpec, build_model, save_model_zip

SPEC = {"dataset": "digits", "algorithm": "evolution", "budget": {"seconds": 600}}


class Job:
    """A deterministic simulated evolution that trains real (small) models."""

    def __init__(self, individuals: int, epochs: int, out: Path, seed: int = 0) -> None:
        self.n, self.epochs, self.out = individuals, epochs, out
        self.rng = np.random.default_rng(seed)
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.randn(36 * 32, 64, generator=gen)
        self.y = torch.randint(0, 10, (36 * 32,), generator=gen)
        spec = ArchitectureSpec("mlp", (64,), 10, "classification", (64, 32), (0.0, 0.0))
        self.model = build_model(spec, generator=gen)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def train_epoch(self) -> float:
        loss = torch.tensor(0.0)
        for i in range(36):
            xb, yb = self.x[i * 32 : (i + 1) * 32], self.y[i * 32 : (i + 1) * 32]
            loss = torch.nn.functional.cross_entropy(self.model(xb), yb)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        return float(loss.detach())

    def run(self, observer: Any) -> tuple[float, int]:
        """Returns (wall seconds, epochs) for the whole job, observer calls included."""
        self.start, self.best, self.version, n_epochs = time.perf_counter(), -1.0, 0, 0
        self.sizes = {f"i{k}": [64, 32] for k in range(self.n)}
        self.ages = dict.fromkeys(self.sizes, 0)
        slots, parents = list(self.sizes), dict.fromkeys(self.sizes)
        for gen in range(self.epochs // 5):
            now = time.perf_counter() - self.start
            for s, ind in enumerate(slots):
                origin = "fresh" if gen == 0 else ("clone" if parents.get(ind) else "continue")
                hp = {"learning_rate": 1e-3}
                info = IndividualInfo(ind, f"t{s}", parents.get(ind), origin, hp, now)
                observer.on_individual_start(info)
            for _ in range(5):
                for s, ind in enumerate(slots):
                    self._epoch(observer, s, ind)
                    n_epochs += 1
            slots, parents = self._next_slots(slots, gen)
        observer.on_finish("finished", None)
        return time.perf_counter() - self.start, n_epochs

    def _epoch(self, observer: Any, slot: int, ind: str) -> None:
        loss = self.train_epoch()
        self.ages[ind] += 1
        age = self.ages[ind]
        self.sizes[ind] = [max(1, n + int(self.rng.integers(-3, 4))) for n in self.sizes[ind]]
        acc = float(0.5 + 0.4 * (1 - np.exp(-age / 10)) + self.rng.normal(0, 0.02))
        t = time.perf_counter() - self.start
        sizes = list(self.sizes[ind])
        observer.on_epoch(
            EpochRecord(
                ind,
                f"t{slot}",
                age,
                age,
                t,
                "accuracy",
                acc,
                loss,
                loss,
                1e-3,
                sizes,
                sum(sizes) * 70,
                0.05,
            )
        )
        if acc > self.best:
            self.best, self.version = acc, self.version + 1
            path = self.out / f"v{self.version}.zip"
            save_model_zip(self.model, path)
            observer.on_best(
                BestRecord(
                    "accuracy",
                    acc,
                    True,
                    f"t{slot}",
                    ind,
                    age,
                    t,
                    {"learning_rate": 1e-3},
                    [64, 32],
                    6986,
                    str(path),
                    self.version,
                )
            )

    def _next_slots(self, slots: list[str], gen: int) -> tuple[list[str], dict[str, str | None]]:
        """The worse half become clones of the better half (new individuals, same slots)."""
        half = len(slots) // 2
        clones = [f"c{gen}_{k}" for k in range(len(slots) - half)]
        parents: dict[str, str | None] = {c: slots[k % half] for k, c in enumerate(clones)}
        for c, p in parents.items():
            self.sizes[c], self.ages[c] = list(self.sizes[p or ""]), self.ages[p or ""]
        return slots[:half] + clones, parents


def one_repeat(args: Any, rep: int) -> dict[str, float]:
    """Null job, then the same job with an MlflowObserver on a fresh sqlite store."""
    from dynas_service.tracking import MlflowObserver

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cpu0 = time.process_time()
        null_s, n = Job(args.individuals, args.epochs, root).run(NullObserver())
        null_cpu = time.process_time() - cpu0
        uri = f"sqlite:///{root / 'mlflow.db'}"
        t0 = time.perf_counter()
        interval = args.model_interval
        obs = MlflowObserver(
            uri,
            "bench",
            f"job{rep}",
            "bench",
            SPEC,
            model_interval_s=interval,
            connect_timeout_s=120,
        )
        ctor_s = time.perf_counter() - t0
        cpu0 = time.process_time()
        mlflow_s, n = Job(args.individuals, args.epochs, root).run(obs)
        t0 = time.perf_counter()
        ok = obs.close(timeout=300)
        close_s = time.perf_counter() - t0
        mlflow_cpu = time.process_time() - cpu0  # both threads, flush included
        health = obs.health()
        if not ok or health["failures"] or health["dropped"]:
            raise RuntimeError(f"tracking did not keep up: {health}")
        calls = MlflowObserver(uri, "bench", f"calls{rep}", "calls", SPEC, model_interval_s=3600)
        call_us = call_cost_us(calls)
    return {"null": null_s, "mlflow": mlflow_s, "ctor": ctor_s, "close": close_s,
            "null_cpu": null_cpu, "mlflow_cpu": mlflow_cpu,
            "call_us": call_us, "epochs": n}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--individuals", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model-interval", type=float, default=30.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    report(args, [one_repeat(args, rep) for rep in range(args.repeats)])


def call_cost_us(obs: Any, n: int = 2000) -> float:
    """Mean driver-thread cost of one on_epoch call (microseconds), queue not full."""
    rec = EpochRecord("i0", "t0", 0, 0, 0.0, "accuracy", 0.5, 1.0, 1.0, 1e-3, [64, 32], 6986, 0.05)
    t0 = time.perf_counter()
    for _ in range(n):
        obs.on_epoch(rec)
    cost = (time.perf_counter() - t0) / n * 1e6
    obs.close(timeout=120)
    return cost


def report(args: Any, runs: list[dict[str, float]]) -> None:
    med = statistics.median
    n = int(runs[0]["epochs"])

    def col(key: str, scale: float = 1.0) -> list[float]:
        return [round(r[key] * scale, 2) for r in runs]

    per_epoch = [(r["mlflow"] - r["null"]) / n * 1000 for r in runs]
    print(
        f"job: {args.individuals} individuals x {args.epochs} epochs = {n} epochs; "
        f"{args.repeats} repeats, null/mlflow alternating; model interval {args.model_interval}s"
    )
    print(f"NullObserver job s:      {col('null')}")
    print(f"MlflowObserver job s:    {col('mlflow')}")
    print(f"epoch ms without track:  {med(r['null'] for r in runs) / n * 1000:.1f}")
    print(
        f"overhead per epoch ms:   {[round(x, 2) for x in per_epoch]}  median "
        f"{med(per_epoch):.2f}  (ratio {med(r['mlflow'] / r['null'] for r in runs):.3f})"
    )
    cpu = [(r["mlflow_cpu"] - r["null_cpu"]) / n * 1000 for r in runs]
    print(
        f"CPU s null / mlflow:     {col('null_cpu')} / {col('mlflow_cpu')} (process, flush incl.)"
    )
    print(f"CPU overhead/epoch ms:   {[round(x, 2) for x in cpu]}  median {med(cpu):.2f}")
    print(f"on_epoch call us:        {col('call_us')}")
    print(f"constructor s (new db):  {col('ctor')}")
    print(f"flush+close s after end: {col('close')}")


if __name__ == "__main__":
    main()
