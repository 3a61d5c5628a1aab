"""``dynas submit``: a JobSpec from flags and/or a spec file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dynas_service.cli._state import fail, open_client, print_json
from dynas_service.cli.inputs import load_spec_file, merge_spec
from dynas_service.cli.jobs import follow

Opt = typer.Option
DatasetOpt = Annotated[str | None, Opt("--dataset", "-d", help="Built-in name or uploaded id.")]
SpecOpt = Annotated[
    Path | None,
    Opt("--spec", exists=True, dir_okay=False, help="A JobSpec .json/.yaml; flags override it."),
]
AlgorithmOpt = Annotated[
    str | None, Opt("--algorithm", "-a", help="evolution | random | grid | progressive")
]
NoTimeLimitOpt = Annotated[
    bool, Opt("--no-time-limit", help="Send budget.seconds=null: run until --trials or stop.")
]
DynamicOpt = Annotated[
    bool | None,
    Opt("--dynamic/--static", help="Auto-sizing layers, or static sizes as hyperparameters."),
]
OptionOpt = Annotated[
    list[str] | None, Opt("--option", help="Algorithm option key=value (repeatable).")
]
WatchOpt = Annotated[bool, Opt("--watch", "-w", help="Follow the job after submitting.")]


def submit(
    ctx: typer.Context,
    dataset: DatasetOpt = None,
    spec_file: SpecOpt = None,
    name: Annotated[str | None, Opt(help="A name for the job.")] = None,
    algorithm: AlgorithmOpt = None,
    seconds: Annotated[float | None, Opt(help="Time budget in seconds.")] = None,
    trials: Annotated[int | None, Opt(help="Trial budget.")] = None,
    no_time_limit: NoTimeLimitOpt = False,
    family: Annotated[str | None, Opt(help="mlp | cnn (default: by input shape).")] = None,
    dynamic: DynamicOpt = None,
    hidden_layers: Annotated[int | None, Opt(help="Number of hidden layers.")] = None,
    initial_units: Annotated[int | None, Opt(help="Units per hidden layer at start.")] = None,
    regularizer: Annotated[str | None, Opt(help="weighted_l1 | l21 | l1 | none")] = None,
    seed: Annotated[int | None, Opt(help="Seed of the whole search.")] = None,
    sample: Annotated[float | None, Opt(help="Fraction of the dataset to use.")] = None,
    validation_fraction: Annotated[float | None, Opt(help="Validation fraction.")] = None,
    cpus_per_trial: Annotated[float | None, Opt(help="CPUs per trial.")] = None,
    gpus_per_trial: Annotated[float | None, Opt(help="GPUs per trial.")] = None,
    max_concurrent_trials: Annotated[int | None, Opt(help="Cap on parallel trials.")] = None,
    option: OptionOpt = None,
    watch: WatchOpt = False,
    json_out: Annotated[bool, Opt("--json", help="Print the created Job as JSON.")] = False,
) -> None:
    """Submit a search job and print its id. Only the dataset is required.

    Example: dynas submit -d digits --algorithm random --seconds 120 --watch
    """
    flags = {
        "dataset": dataset,
        "name": name,
        "algorithm": algorithm,
        "seconds": seconds,
        "trials": trials,
        "family": family,
        "dynamic": dynamic,
        "hidden_layers": hidden_layers,
        "initial_units": initial_units,
        "regularizer": regularizer,
        "seed": seed,
        "sample": sample,
        "validation_fraction": validation_fraction,
        "cpus_per_trial": cpus_per_trial,
        "gpus_per_trial": gpus_per_trial,
        "max_concurrent_trials": max_concurrent_trials,
    }
    try:
        base = load_spec_file(spec_file) if spec_file else {}
        spec = merge_spec(base, flags, option or (), no_time_limit=no_time_limit)
    except (ValueError, OSError) as exc:
        fail(f"error: {exc}", 2)
    with open_client(ctx) as client:
        job = client.submit_job(spec)
        if json_out:
            print_json(job)
        else:
            typer.echo(job["id"])
        if watch:
            follow(client, job["id"], interval=1.0, timeout=None)
