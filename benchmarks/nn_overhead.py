"""Epoch time of a dynamic model vs a static model of the same final sizes, side by side.

Run: ``python -m benchmarks.nn_overhead [--quick]``. For each setup a dynamic model first
trains a few warm-up epochs; then, repeated and interleaved (rotating order), one epoch of:

- ``dynamic``: grow -> fit with the weighted-l1 penalty (gradient added to .grad) -> prune
- ``naive``: the same on a copy, with the penalty added to the loss every step
- ``static_final``: a static model at the dynamic model's sizes after the epoch, no penalty
- ``static_grown``: a static model at the grown sizes it trained at, no penalty

Only training is timed (no evaluation). The minimum over repetitions (least disturbed by
other processes on a shared machine) and the median are reported, with ratios to
``static_final``. A second table compares Adam implementations on static epochs.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable

import torch

from benchmarks.nn_common import Data, load_data, model_for, spec_for
from dynas_service.nn import (
    DynamicNet,
    DynamicSettings,
    PenaltyGradient,
    grow,
    make_optimizer,
    penalty,
    prune,
    train_epoch,
)
from dynas_service.nn.training import data_loss

SETUPS = [
    # name, dataset, sample, family, initial units, alpha, lr, batch
    ("digits-mlp", "digits", 1.0, "mlp", 20, 1e-4, 4e-4, 32),
    ("digits-cnn", "digits", 1.0, "cnn", 20, 2e-5, 4e-4, 32),
    ("puzzle8-mlp", "puzzle8", 0.05, "mlp", 50, 2e-5, 4e-4, 64),
]


def naive_dynamic_epoch(
    model: DynamicNet,
    opt: torch.optim.Optimizer,
    data: Data,
    batch: int,
    alpha: float,
    g: torch.Generator,
) -> None:
    """Algorithm 2 with the penalty built into the loss graph at every step."""
    settings = DynamicSettings()
    grow(model, opt, settings, g)
    model.train()
    for idx in torch.randperm(data.X_train.shape[0], generator=g).split(batch):
        opt.zero_grad(set_to_none=True)
        out = model(data.X_train[idx])
        loss = data_loss(model, out, data.y_train[idx]) + penalty(model, "weighted_l1", alpha)
        loss.backward()
        opt.step()
    prune(model, opt, settings)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def overhead(setup: tuple, reps: int, warmup: int) -> dict[str, object]:
    name, dataset, sample, family, units, alpha, lr, batch = setup
    data = load_data(dataset, sample=sample, seed=0)
    model = model_for(data, spec_for(data, family, (units,) * 5), seed=0)
    opt = make_optimizer(model, lr)
    g = torch.Generator().manual_seed(0)
    settings = DynamicSettings()

    def dynamic_epoch(m: DynamicNet, o: torch.optim.Optimizer) -> None:
        train_epoch(
            m,
            o,
            data.X_train,
            data.y_train,
            batch_size=batch,
            reg_strength=alpha,
            regularizer="weighted_l1",
            dynamic=True,
            settings=settings,
            generator=g,
        )

    def static_epoch(sizes: tuple[int, ...]) -> Callable[[], None]:
        static = model_for(data, spec_for(data, family, sizes), seed=1)
        sopt = make_optimizer(static, lr)
        return lambda: train_epoch(
            static,
            sopt,
            data.X_train,
            data.y_train,
            batch_size=batch,
            reg_strength=0.0,
            regularizer="none",
            dynamic=False,
            settings=settings,
            generator=g,
        )

    for _ in range(warmup):
        dynamic_epoch(model, opt)
    times: dict[str, list[float]] = {
        k: [] for k in ("dynamic", "naive", "static_final", "static_grown")
    }
    for rep in range(reps):
        before = tuple(model.layer_sizes())
        grown = tuple(n + settings.growth(n) for n in before)
        twin, twin_opt = copy.deepcopy((model, opt))
        jobs: dict[str, Callable[[], object]] = {
            "dynamic": lambda: dynamic_epoch(model, opt),
            "naive": lambda t=twin, o=twin_opt: naive_dynamic_epoch(t, o, data, batch, alpha, g),
            "static_grown": static_epoch(grown),
        }
        order = list(jobs)[rep % 3 :] + list(jobs)[: rep % 3]
        for key in order:
            times[key].append(timed(jobs[key]))
        times["static_final"].append(timed(static_epoch(tuple(model.layer_sizes()))))
    return {
        "setup": name,
        "sizes": model.layer_sizes(),
        "min": {k: min(v) for k, v in times.items()},
        "median": {k: statistics.median(v) for k, v in times.items()},
    }


def adam_variants(setup: tuple, reps: int) -> dict[str, float]:
    _name, dataset, sample, family, units, _alpha, lr, batch = setup
    data = load_data(dataset, sample=sample, seed=0)
    variants = {
        "fused": {"fused": True},
        "foreach": {"foreach": True},
        "for-loop": {"foreach": False},
    }
    runs = {}
    for key, kwargs in variants.items():
        model = model_for(data, spec_for(data, family, (units,) * 5), seed=0)
        runs[key] = (model, torch.optim.Adam(model.parameters(), lr=lr, **kwargs))
    g = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(reps):
        for key, (model, opt) in runs.items():
            times[key].append(
                timed(
                    lambda m=model, o=opt: train_epoch(
                        m,
                        o,
                        data.X_train,
                        data.y_train,
                        batch_size=batch,
                        reg_strength=0.0,
                        regularizer="none",
                        dynamic=False,
                        settings=DynamicSettings(),
                        generator=g,
                    )
                )
            )
    return {k: min(v) for k, v in times.items()}


def best_of(fn: Callable[[], object], repeats: int = 30) -> float:
    """The fastest of ``repeats`` calls, in seconds (least disturbed by other processes)."""
    return min(timed(fn) for _ in range(repeats))


def mechanics_breakdown(setup: tuple) -> dict[str, float]:
    """Best-of timings (ms) of the per-epoch and per-step pieces Algorithm 2 adds."""
    _name, dataset, sample, family, units, alpha, lr, batch = setup
    data = load_data(dataset, sample=sample, seed=0)
    model = model_for(data, spec_for(data, family, (units,) * 5), seed=0)
    opt = make_optimizer(model, lr)
    settings = DynamicSettings()
    g = torch.Generator().manual_seed(0)
    xb, yb = data.X_train[:batch], data.y_train[:batch]

    def step(with_penalty: PenaltyGradient | None) -> None:
        opt.zero_grad(set_to_none=True)
        data_loss(model, model(xb), yb).backward()
        if with_penalty is not None:
            with_penalty.add_to_grad()
        opt.step()

    step(None)

    def grow_and_prune() -> None:
        grow(model, opt, settings, g)
        with torch.no_grad():  # make the new units dead so prune removes exactly them
            for layer, n in zip(model.hidden_layers, sizes, strict=True):
                layer.weight[n:] = 0
                layer.bias[n:] = 0
        prune(model, opt, settings)

    sizes = model.layer_sizes()
    pen = PenaltyGradient(model, "weighted_l1", alpha)
    n_steps = -(-len(data.X_train) // batch)
    return {
        "grow+prune": 1e3 * best_of(grow_and_prune),
        "penalty setup+value": 1e3
        * best_of(lambda: PenaltyGradient(model, "weighted_l1", alpha).value()),
        "add_to_grad x steps": 1e3 * n_steps * best_of(pen.add_to_grad, 200),
        "static step x steps": 1e3 * n_steps * best_of(lambda: step(None), 200),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--reps", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    reps = args.reps or (3 if args.quick else 9)
    warmup = 2 if args.quick else 5
    print(f"torch {torch.__version__}, threads 1, reps {reps}, warm-up epochs {warmup}")
    print(
        "| setup | final sizes | statistic | dynamic s | naive s | static final s | static grown s "
        "| dynamic/static final | naive/static final | dynamic/static grown |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for setup in SETUPS:
        r = overhead(setup, reps, warmup)
        for statistic in ("min", "median"):
            m = r[statistic]
            assert isinstance(m, dict)
            sf, sg = m["static_final"], m["static_grown"]
            print(
                f"| {r['setup']} | {r['sizes']} | {statistic} | {m['dynamic']:.3f} "
                f"| {m['naive']:.3f} | {sf:.3f} | {sg:.3f} | {m['dynamic'] / sf:.2f}x "
                f"| {m['naive'] / sf:.2f}x | {m['dynamic'] / sg:.2f}x |",
                flush=True,
            )
    print("\nPieces of a dynamic epoch at the initial sizes (best-of, ms per epoch):")
    print(
        "| setup | grow+prune | penalty setup+value | add_to_grad x steps | static step x steps |"
    )
    print("|---|---|---|---|---|")
    for setup in SETUPS:
        b = mechanics_breakdown(setup)
        print(f"| {setup[0]} | " + " | ".join(f"{v:.2f}" for v in b.values()) + " |", flush=True)
    print("\nAdam implementations, static epoch at the initial sizes (min s):")
    print("| setup | fused | foreach | for-loop |")
    print("|---|---|---|---|")
    for setup in SETUPS:
        a = adam_variants(setup, reps)
        print(
            f"| {setup[0]} | {a['fused']:.3f} | {a['foreach']:.3f} | {a['for-loop']:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
