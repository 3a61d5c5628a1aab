"""Layer-size behaviour of dynamic auto-sizing (thesis figures 6.1-6.2 and 6.4, CPU scale).

Run: ``python -m benchmarks.nn_layer_sizes [--quick]``. On digits:

1. mlp, weighted l1: final hidden sizes across seeds and initial sizes (do runs that start
   small and large converge to similar sizes?), with the trajectory of the first seed;
2. mlp and cnn: final sizes and validation accuracy against alpha.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from benchmarks.nn_common import Data, load_data, model_for, run, spec_for

LR = 4e-4
BATCH = 32


def sizes_run(data: Data, family: str, initial: int, alpha: float, epochs: int, seed: int):
    model = model_for(data, spec_for(data, family, (initial,) * 5), seed)
    return run(
        data,
        model,
        epochs=epochs,
        lr=LR,
        batch_size=BATCH,
        reg_strength=alpha,
        regularizer="weighted_l1",
        dynamic=True,
        seed=seed,
    )


def across_initial_sizes(data: Data, initials: list[int], seeds: int, epochs: int, alpha: float):
    print(f"\n1. mlp on digits, alpha {alpha}, lr {LR}, batch {BATCH}, {epochs} dynamic epochs")
    print(
        "| initial units | final sizes per seed | mean total units | accuracy per seed | "
        "trajectory of seed 0 (total units per epoch) |"
    )
    print("|---|---|---|---|---|")
    for initial in initials:
        results = [sizes_run(data, "mlp", initial, alpha, epochs, s) for s in range(seeds)]
        finals = [r[-1].layer_sizes for r in results]
        trajectory = [sum(e.layer_sizes) for e in results[0]]
        print(
            f"| {initial} | {'; '.join('/'.join(map(str, f)) for f in finals)} | "
            f"{statistics.mean(sum(f) for f in finals):.0f} | "
            f"{', '.join(f'{r[-1].val_metric:.3f}' for r in results)} | "
            f"{' '.join(map(str, trajectory))} |",
            flush=True,
        )


def against_alpha(data: Data, family: str, alphas: list[float], seeds: int, epochs: int) -> None:
    print(f"\n2. {family} on digits, initial 20, lr {LR}, batch {BATCH}, {epochs} dynamic epochs")
    print("| alpha | final sizes per seed | mean total units | mean params | mean accuracy |")
    print("|---|---|---|---|---|")
    for alpha in alphas:
        results = [sizes_run(data, family, 20, alpha, epochs, s) for s in range(seeds)]
        finals = [r[-1].layer_sizes for r in results]
        print(
            f"| {alpha:g} | {'; '.join('/'.join(map(str, f)) for f in finals)} | "
            f"{statistics.mean(sum(f) for f in finals):.0f} | "
            f"{statistics.mean(r[-1].n_parameters for r in results):.0f} | "
            f"{statistics.mean(r[-1].val_metric for r in results):.3f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, few epochs (smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = 1 if args.quick else 3
    epochs = 4 if args.quick else 20
    data = load_data("digits", sample=1.0, seed=0)
    print(f"torch {torch.__version__}, threads 1, seeds {seeds}")
    across_initial_sizes(data, [10, 50, 200], seeds, epochs, alpha=1e-4)
    against_alpha(data, "mlp", [1e-5, 3e-5, 1e-4, 3e-4, 1e-3], seeds, epochs)
    against_alpha(data, "cnn", [1e-5, 1e-4, 1e-3], 1, 3 if args.quick else 8)


if __name__ == "__main__":
    main()
