"""The thesis' table 6.2 at CPU scale: dynamic weighted l1 vs static A/B vs dynamic l21.

Run: ``python -m benchmarks.nn_table62 [--quick]``. Per dataset and seed:

- ``dynamic wl1``: initial widths 20, ``dyn_epochs`` dynamic epochs with weighted l1, then
  ``ft_epochs`` static fine-tuning epochs (no penalty, no growth, no pruning); Adam's
  moments follow their parameters through the surgery (``optimizer_state="carry"``)
- ``dynamic wl1, Adam reset``: the same with every Adam moment zeroed at each surgery, as
  the reference TensorFlow code did (``optimizer_state="reset"``)
- ``static A``: a static model at the sizes ``dynamic wl1`` discovered, no penalty
- ``static B``: uniform widths (cnn: conv widths, dense kept) with the same parameter count
- ``dynamic l21``: as ``dynamic wl1`` with the group-lasso penalty at the same alpha

All runs train the same number of epochs; the score is the best epoch's validation metric
(the thesis' protocol). Datasets: digits (cnn, 1x8x8) and a puzzle8 sample (mlp regression).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from benchmarks.nn_common import (
    Data,
    best,
    load_data,
    model_for,
    parameter_count,
    run,
    spec_for,
    uniform_sizes_with_params,
)
from dynas_service.nn import DynamicSettings, EpochResult, make_optimizer

# dataset, sample, family, alpha, lr, batch, dyn_epochs, ft_epochs, l21 alpha
CONFIGS = {
    "digits": ("digits", 1.0, "cnn", 2e-5, 4e-4, 32, 8, 4, 1e-3),
    "puzzle8": ("puzzle8", 0.05, "mlp", 2e-5, 4e-4, 64, 8, 4, 1e-3),
}
# The group-lasso penalty of a unit, alpha * ||row||_2, is far weaker than the weighted l1
# one, alpha * j * ||row||_1, at the same alpha; 1e-3 (50x) is the order where it starts to
# remove units in short trial runs. It is reported next to the results.
INITIAL_UNITS = 20


def dynamic_run(
    data: Data,
    family: str,
    regularizer: str,
    alpha: float,
    lr: float,
    batch: int,
    dyn_epochs: int,
    ft_epochs: int,
    seed: int,
    optimizer_state: str = "carry",
) -> tuple[list[EpochResult], list[int]]:
    model = model_for(data, spec_for(data, family, (INITIAL_UNITS,) * 5), seed)
    opt = make_optimizer(model, lr)
    results = run(
        data,
        model,
        optimizer=opt,
        epochs=dyn_epochs,
        lr=lr,
        batch_size=batch,
        reg_strength=alpha,
        regularizer=regularizer,
        dynamic=True,
        seed=seed,
        settings=DynamicSettings(optimizer_state=optimizer_state),
    )
    sizes = model.layer_sizes()
    # static fine-tuning continues with the same model and Adam (one schedule, as the thesis)
    results += run(
        data,
        model,
        optimizer=opt,
        epochs=ft_epochs,
        lr=lr,
        batch_size=batch,
        reg_strength=0.0,
        regularizer="none",
        dynamic=False,
        seed=seed + 1000,
    )
    return results, sizes


def static_run(
    data: Data, family: str, sizes: tuple[int, ...], lr: float, batch: int, epochs: int, seed: int
) -> list[EpochResult]:
    model = model_for(data, spec_for(data, family, sizes), seed)
    return run(
        data,
        model,
        epochs=epochs,
        lr=lr,
        batch_size=batch,
        reg_strength=0.0,
        regularizer="none",
        dynamic=False,
        seed=seed,
    )


def _entry(data: Data, family: str, results: list[EpochResult], sizes: list[int]) -> dict:
    """A table row's cell data for a run that ended at ``sizes``."""
    return {
        "score": best(results).val_metric,
        "sizes": sizes,
        "params": parameter_count(data, family, tuple(sizes)),
    }


def one_seed(name: str, seed: int, dyn_epochs: int, ft_epochs: int) -> dict[str, dict]:
    dataset, sample, family, alpha, lr, batch, _, _, alpha_l21 = CONFIGS[name]
    data = load_data(dataset, sample=sample, seed=seed)
    epochs = dyn_epochs + ft_epochs
    out: dict[str, dict] = {}
    wl1, sizes = dynamic_run(
        data, family, "weighted_l1", alpha, lr, batch, dyn_epochs, ft_epochs, seed
    )
    n_params = parameter_count(data, family, tuple(sizes))
    out["dynamic wl1"] = {"score": best(wl1).val_metric, "sizes": sizes, "params": n_params}
    reset, reset_sizes = dynamic_run(
        data, family, "weighted_l1", alpha, lr, batch, dyn_epochs, ft_epochs, seed, "reset"
    )
    out["dynamic wl1, Adam reset"] = _entry(data, family, reset, reset_sizes)
    a = static_run(data, family, tuple(sizes), lr, batch, epochs, seed)
    out["static A"] = {"score": best(a).val_metric, "sizes": sizes, "params": n_params}
    b_sizes = uniform_sizes_with_params(data, family, tuple(sizes), n_params)
    b = static_run(data, family, b_sizes, lr, batch, epochs, seed)
    out["static B"] = {
        "score": best(b).val_metric,
        "sizes": list(b_sizes),
        "params": parameter_count(data, family, b_sizes),
    }
    l21, l21_sizes = dynamic_run(
        data, family, "l21", alpha_l21, lr, batch, dyn_epochs, ft_epochs, seed
    )
    out["dynamic l21"] = _entry(data, family, l21, l21_sizes)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 3+1 epochs (smoke run)")
    parser.add_argument("--seeds", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n_seeds = args.seeds or (1 if args.quick else 3)
    print(f"torch {torch.__version__}, threads 1, seeds {n_seeds}")
    for name, config in CONFIGS.items():
        dyn_epochs, ft_epochs = (3, 1) if args.quick else config[6:8]
        start = time.perf_counter()
        per_seed = [one_seed(name, seed, dyn_epochs, ft_epochs) for seed in range(n_seeds)]
        metric = "accuracy" if name == "digits" else "RMSE (moves)"
        print(
            f"\n{name} ({config[2]}, sample {config[1]}, alpha {config[3]}, lr {config[4]}, "
            f"l21 alpha {config[8]}, batch {config[5]}, "
            f"{dyn_epochs} dynamic + {ft_epochs} fine-tuning epochs; "
            f"best-epoch validation {metric}; {time.perf_counter() - start:.0f} s)"
        )
        print("| method | mean | per seed | sizes per seed | params per seed |")
        print("|---|---|---|---|---|")
        for method in per_seed[0]:
            scores = [r[method]["score"] for r in per_seed]
            print(
                f"| {method} | {statistics.mean(scores):.4f} | "
                f"{', '.join(f'{s:.4f}' for s in scores)} | "
                f"{'; '.join('/'.join(map(str, r[method]['sizes'])) for r in per_seed)} | "
                f"{', '.join(str(r[method]['params']) for r in per_seed)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
