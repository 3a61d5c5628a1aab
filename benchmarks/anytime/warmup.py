"""Pay each framework's once-per-process start-up cost before the first measured run.

The first ``Tuner.fit`` in a fresh Ray took ~8 s longer than later ones here, and the
first Optuna run would start the fork server that imports torch; whichever method ran
first would carry that alone. After a warm-up, every measured run pays only what it
pays every time (starting its trial actors or worker processes, importing its trainable).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Set

from benchmarks.anytime.config import BenchConfig

_log = logging.getLogger(__name__)


def _import_trainable(config: dict) -> None:
    from ray import tune

    import benchmarks.anytime.problem  # noqa: F401  (torch and dynas_service.nn)

    tune.report({"ok": 1})


def warm_up_tune(cpus: int) -> None:
    """One throwaway ``Tuner.fit`` with ``cpus`` trivial trials that import torch."""
    from ray import tune

    with tempfile.TemporaryDirectory() as storage:
        tuner = tune.Tuner(
            tune.with_resources(_import_trainable, {"cpu": 1}),
            tune_config=tune.TuneConfig(num_samples=cpus),
            run_config=tune.RunConfig(storage_path=storage, verbose=0),
        )
        tuner.fit()


def warm_up(frameworks: Set[str], config: BenchConfig) -> None:
    """Warm up the frameworks named in ``frameworks`` (``ray-tune``/``dynas``, ``optuna``)."""
    start = time.monotonic()
    if frameworks & {"ray-tune", "dynas"}:
        warm_up_tune(config.cpus)
    if "optuna" in frameworks:
        from benchmarks.anytime.methods.optuna_tpe import warm_up_workers

        warm_up_workers()
    _log.info("warm-up of %s took %.1f s", sorted(frameworks), time.monotonic() - start)
