"""The driver-side Tune callback: observer events and the durable best model.

Runs in the Tune driver (the job runner). ``on_trial_result`` turns each reported epoch into
``on_individual_start`` (first epoch of an individual not seen before) and ``on_epoch``;
``on_checkpoint`` publishes a new best through :class:`BestWriter` (the checkpoint is
persisted at that point, so the best model is on disk before the next controller step).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from ray import tune

from dynas_service.engine.best import BestWriter, is_better
from dynas_service.engine.trainable import ENGINE_FILE, VALUE, read_engine_meta
from dynas_service.events import BestRecord, EpochRecord, IndividualInfo, SearchObserver

_log = logging.getLogger(__name__)


class JobClock:
    """Seconds since the job started, continuing across resumed runs."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = float(offset_s)
        self._start = time.monotonic()

    def now(self) -> float:
        return self.offset_s + time.monotonic() - self._start


class EngineCallback(tune.Callback):
    """Feeds the observer and the best writer; one instance per ``run_search`` call."""

    def __init__(self, observer: SearchObserver, best: BestWriter, clock: JobClock,
                 latest: dict[str, Any] | None = None) -> None:
        self.observer = observer
        self.latest = latest if latest is not None else {}  # trial id -> latest checkpoint
        self.best = best
        self.clock = clock
        self.seen: set[str] = set()
        self.reported: set[tuple[str, int]] = set()  # (individual, epoch) of every result
        self.n_epochs = 0

    def __reduce__(self) -> Any:
        # Tune pickles callbacks into its experiment state; this one lives only in the
        # driver, so a restored copy is a harmless stand-in that reports nothing.
        return (_Inert, ())

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict,
                        **info: Any) -> None:
        if VALUE not in result:
            return
        now = self.clock.now()
        self.n_epochs += 1
        individual = str(result["individual_id"])
        self.reported.add((individual, int(result["epoch"])))
        hyper = dict(trial.config.get("hyperparameters", {}))
        if individual not in self.seen:
            if not self.seen:
                _log.info("first epoch reported after %.1f s", now - self.clock.offset_s)
            self.seen.add(individual)
            self._emit("on_individual_start", IndividualInfo(
                individual, trial.trial_id, result.get("parent_id"),
                result.get("origin", "fresh"), hyper,
                max(0.0, now - float(result["epoch_seconds"]))))
        self._emit("on_epoch", EpochRecord(
            individual, trial.trial_id, int(result["epoch"]), int(result["age"]), now,
            str(result["metric_name"]), float(result[VALUE]), float(result["train_loss"]),
            float(result["val_loss"]), float(result["reg_strength"]),
            list(result["layer_sizes"]), int(result["n_parameters"]),
            float(result["epoch_seconds"])))

    def on_checkpoint(self, iteration: int, trials: list, trial: Any, checkpoint: Any,
                      **info: Any) -> None:
        previous = self.latest.get(trial.trial_id)
        self.latest[trial.trial_id] = checkpoint
        try:
            self._publish_if_best(trial.trial_id, checkpoint)
        finally:
            if previous is not None and previous.path != checkpoint.path:
                delete_checkpoint(previous)

    def adopt_unregistered(self, experiment_dir: Path) -> None:
        """Offer the checkpoints of reported epochs persisted under a local
        ``experiment_dir`` as the best.

        Tune registers a reported checkpoint with a second round trip to the trial (its
        ``save``); a run that stops in between leaves the checkpoint on storage but never
        calls :meth:`on_checkpoint`, and it may hold the best reported model. Checkpoints
        of results the driver never received are not adopted (the best stays the best
        *reported* epoch, as observers saw it). Called once when a run ends; unreadable
        (torn) checkpoints are skipped.
        """
        for meta in sorted(experiment_dir.glob(f"trial-*/checkpoint_*/{ENGINE_FILE}")):
            trial_id = meta.parent.parent.name.removeprefix("trial-")
            try:
                self._publish_if_best(trial_id, tune.Checkpoint.from_directory(str(meta.parent)))
            except Exception:
                _log.warning("skipped an unreadable checkpoint %s", meta.parent, exc_info=True)

    def _publish_if_best(self, trial_id: str, checkpoint: Any) -> None:
        """Publish ``checkpoint`` if it beats the best and its epoch's result was reported
        (the best is always an epoch the observers saw)."""
        with checkpoint.as_directory() as directory:
            meta = read_engine_meta(directory)
            if VALUE not in meta or not is_better(
                float(meta[VALUE]), self.best.value, bool(meta["higher_is_better"])
            ) or (str(meta["individual_id"]), int(meta["epoch"])) not in self.reported:
                return
            record = BestRecord(
                metric=str(meta["metric_name"]), value=float(meta[VALUE]),
                higher_is_better=bool(meta["higher_is_better"]), trial_id=trial_id,
                individual_id=str(meta["individual_id"]), epoch=int(meta["epoch"]),
                found_at_s=self.clock.now(), hyperparameters=dict(meta["hyperparameters"]),
                layer_sizes=[], parameters=0, model_path="",
                extra={"age": int(meta["age"]), "parent_id": meta.get("parent_id")})
            published = self.best.offer(record, lambda path: _save_zip(directory, path))
        if published is not None:
            self._emit("on_best", published)

    def _emit(self, method: str, record: Any) -> None:
        try:
            getattr(self.observer, method)(record)
        except Exception:  # an observer must never break the search
            _log.exception("observer failed in %s", method)


def delete_checkpoint(checkpoint: Any) -> None:
    """Delete a trial's superseded checkpoint (the engine's retention: latest only).

    Tune's own ``CheckpointConfig(num_to_keep)`` would do this but forces a snapshot of the
    whole experiment state every ``num_to_keep`` checkpoints of a trial, which cost the
    driver ~40 ms each time; the engine never restores Tune's experiment state, so it keeps
    every checkpoint in Tune's eyes and deletes the superseded ones itself. Nothing reads
    them: Tune restores a trial from its latest checkpoint, and the evolution's clone
    sources are hard-linked snapshots.
    """
    try:
        checkpoint.filesystem.delete_dir(checkpoint.path)
    except Exception:  # already gone, or a remote store hiccup: retention is best effort
        _log.debug("could not delete checkpoint %s", checkpoint.path, exc_info=True)


def _save_zip(directory: str, path: Any) -> dict[str, Any]:
    from dynas_service.nn import load_checkpoint_model, save_model_zip

    model = load_checkpoint_model(directory, device="cpu")
    save_model_zip(model, path)
    return {"layer_sizes": list(model.layer_sizes()), "parameters": int(model.n_parameters())}


class _Inert(tune.Callback):
    """What a pickled :class:`EngineCallback` becomes: does nothing."""
