"""Epoch time of a dynamic model vs a static model of the same final sizes, side by side.

Run: ``python -m benchmarks.nn_overhead [--quick]``. For each setup a dynamic model first
trains a few warm-up epochs; then, repeated and interleaved (rotating order), one epoch of:

- ``dynamic``: grow -> fit with the weighted-l1 penalty (gradient added to .grad) -> prune
- ``naive``: the same on a copy, with the penalty added to the loss every step
- ``static_final``: a static model at the dynamic model's sizes after the epoch, no penalty
- ``static_grown``: a static model at the grown sizes it trained at, no penalty

Only training is timed (no evaluation); each static model trains one untimed epoch first
(optimizer state allocated, like the dynamic model's), and an untimed rehearsal on a copy
of the dynamic model tells the sizes the epoch will end at. Ratios are taken per
repetition (the four epochs ran back to back) and the median over repetitions reported,
with the ratio of the fastest epochs in brackets. ``dynamic / static grown`` is what the
dynamic machinery (growth and pruning surgery, the penalty) costs; ``static grown /
static final`` is what Algorithm 2 itself costs by training ``max(0.2 n, 20)`` extra units
per layer until the prune, which no implementation of the method avoids. Further tables:
the pieces of a dynamic epoch, and Adam implementations on static epochs.
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


def static_train_epoch(
    model: DynamicNet, opt: torch.optim.Optimizer, data: Data, batch: int, g: torch.Generator
) -> None:
    """One epoch without penalty, growth or pruning (the same code path as a dynamic one)."""
    train_epoch(
        model,
        opt,
        data.X_train,
        data.y_train,
        batch_size=batch,
        reg_strength=0.0,
        regularizer="none",
        dynamic=False,
        settings=DynamicSettings(),
        generator=g,
    )


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def overhead(setup: tuple, reps: int, warmup: int) -> dict[str, object]:
    name, dataset, sample, family, units, alpha, lr, batch = setup
    data = load_data(dataset, sample=sample, seed=0)
    model = model_for(data, spec_for(data, family, (units,) * 5), seed=0)
    opt = make_optimizer(model, lr)
    g = torch.Generator().manual_seed(0)  # the dynamic model's: shuffles, dropout, growth
    g_other = torch.Generator().manual_seed(1)  # everyone else's
    settings = DynamicSettings()

    def dynamic_epoch(m: DynamicNet, o: torch.optim.Optimizer, gen: torch.Generator) -> None:
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
            generator=gen,
        )

    def static_epoch(sizes: tuple[int, ...]) -> Callable[[], None]:
        """A fresh static model at ``sizes`` that has trained one (untimed) epoch, so its
        optimizer state exists like the dynamic model's; returns its next epoch."""
        static = model_for(data, spec_for(data, family, sizes), seed=1)
        sopt = make_optimizer(static, lr)

        def epoch() -> None:
            static_train_epoch(static, sopt, data, batch, g_other)

        epoch()
        return epoch

    for _ in range(warmup):
        dynamic_epoch(model, opt, g)
    keys = ("dynamic", "naive", "static_final", "static_grown")
    times: dict[str, list[float]] = {k: [] for k in keys}
    for rep in range(reps):
        grown = tuple(n + settings.growth(n) for n in model.layer_sizes())
        twin, twin_opt = copy.deepcopy((model, opt))
        rehearsal, rehearsal_opt = copy.deepcopy((model, opt))
        g_rehearsal = torch.Generator()
        g_rehearsal.set_state(g.get_state())
        dynamic_epoch(rehearsal, rehearsal_opt, g_rehearsal)  # the sizes this epoch ends at
        final = tuple(rehearsal.layer_sizes())
        jobs: dict[str, Callable[[], object]] = {
            "dynamic": lambda: dynamic_epoch(model, opt, g),
            "naive": lambda t=twin, o=twin_opt: naive_dynamic_epoch(
                t, o, data, batch, alpha, g_other
            ),
            "static_final": static_epoch(final),
            "static_grown": static_epoch(grown),
        }
        order = list(keys)[rep % 4 :] + list(keys)[: rep % 4]
        for key in order:
            times[key].append(timed(jobs[key]))
        assert tuple(model.layer_sizes()) == final, "the rehearsal must predict the sizes"
    return {"setup": name, "sizes": model.layer_sizes(), "times": times}


def summarize(times: dict[str, list[float]]) -> dict[str, float]:
    """Ratios of a setup's epochs: per repetition (the four epochs of one repetition ran
    back to back, so they saw the same machine) and then the median over repetitions, plus
    the ratio of the fastest epochs (least disturbed by other processes)."""

    def paired(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))

    return {
        "dyn/grown": paired("dynamic", "static_grown"),
        "dyn/grown min": min(times["dynamic"]) / min(times["static_grown"]),
        "dyn/final": paired("dynamic", "static_final"),
        "dyn/final min": min(times["dynamic"]) / min(times["static_final"]),
        "grown/final": paired("static_grown", "static_final"),
        "naive/final": paired("naive", "static_final"),
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
                timed(lambda m=model, o=opt: static_train_epoch(m, o, data, batch, g))
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

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        data_loss(model, model(xb), yb).backward()
        opt.step()

    step()

    def grow_and_prune() -> None:
        grow(model, opt, settings, g)
        with torch.no_grad():  # make the new units dead so prune removes exactly them
            for layer, n in zip(model.hidden_layers, sizes, strict=True):
                layer.weight[n:] = 0
                layer.bias[n:] = 0
        prune(model, opt, settings)

    def penalty_setup_value_and_release() -> None:
        with PenaltyGradient(model, "weighted_l1", alpha) as pen:
            pen.value()

    sizes = model.layer_sizes()
    n_steps = -(-len(data.X_train) // batch)
    pieces = {
        "grow+prune": 1e3 * best_of(grow_and_prune),
        "penalty setup+value": 1e3 * best_of(penalty_setup_value_and_release),
    }
    with PenaltyGradient(model, "weighted_l1", alpha) as pen:
        pieces["add_to_grad x steps"] = 1e3 * n_steps * best_of(pen.add_to_grad, 200)
    pieces["static step x steps"] = 1e3 * n_steps * best_of(step, 200)
    return pieces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--reps", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    reps = args.reps or (4 if args.quick else 16)
    warmup = 2 if args.quick else 5
    print(f"torch {torch.__version__}, threads 1, reps {reps}, warm-up epochs {warmup}")
    print(
        "| setup | final sizes | dynamic s | static final s | static grown s "
        "| **dynamic / static grown** (min) | dynamic / static final (min) "
        "| static grown / static final | naive / static final |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for setup in SETUPS:
        r = overhead(setup, reps, warmup)
        times = r["times"]
        assert isinstance(times, dict)
        ratios = summarize(times)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"| {r['setup']} | {'/'.join(map(str, r['sizes']))} | {med['dynamic']:.4f} "
            f"| {med['static_final']:.4f} | {med['static_grown']:.4f} "
            f"| **{ratios['dyn/grown']:.3f}x** ({ratios['dyn/grown min']:.3f}x) "
            f"| {ratios['dyn/final']:.3f}x ({ratios['dyn/final min']:.3f}x) "
            f"| {ratios['grown/final']:.3f}x | {ratios['naive/final']:.3f}x |",
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
