"""A synthetic evolution recorded in a real sqlite MLflow store: structure, lineage, layer
sizes, the trace, the logged model and the registry."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from dynas_service.events import BestRecord, EpochRecord, IndividualInfo
from tests.tracking.conftest import SPEC, TrackedJob, feed_in_phases, nn_model_writer
from tests.tracking.synthetic import events, small_evolution

pytestmark = pytest.mark.mlflow


def _client(job: TrackedJob) -> MlflowClient:
    return MlflowClient(tracking_uri=job.uri, registry_uri=job.uri)


def _children(job: TrackedJob) -> dict[str, object]:
    client = _client(job)
    parent = client.get_run(job.observer.run_id)  # type: ignore[attr-defined]
    runs = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    )
    return {r.data.tags["dynas.individual_id"]: r for r in runs}


def test_health_is_clean_after_close(tracked_job: TrackedJob) -> None:
    health = tracked_job.observer.health()  # type: ignore[attr-defined]
    assert health["dropped"] == 0 and health["failures"] == 0 and health["last_error"] is None
    assert health["status"] == "closed" and health["queue"] == 0


def test_one_parent_run_with_the_spec_and_one_child_per_individual(tracked_job: TrackedJob) -> None:
    client = _client(tracked_job)
    parent = client.get_run(tracked_job.observer.run_id)  # type: ignore[attr-defined]
    assert client.get_experiment(parent.info.experiment_id).name == "dynas-test"
    assert parent.data.params["dataset"] == "digits"
    assert parent.data.params["budget.seconds"] == "60"
    assert parent.data.params["model.family"] == "mlp"
    assert parent.data.tags["dynas.algorithm"] == SPEC["algorithm"]
    assert parent.data.tags["dynas.job_id"] == "job-1"
    assert parent.info.status == "FINISHED"
    individuals = {e.individual_id for e in tracked_job.stream if isinstance(e, IndividualInfo)}
    children = _children(tracked_job)
    assert set(children) == individuals
    assert all(r.info.status == "FINISHED" for r in children.values())


def test_child_params_and_tags_match_the_start_events(tracked_job: TrackedJob) -> None:
    children = _children(tracked_job)
    first = {}
    for e in tracked_job.stream:
        if isinstance(e, IndividualInfo):
            first.setdefault(e.individual_id, e)
    for ind, info in first.items():
        run = children[ind]
        assert float(run.data.params["learning_rate"]) == pytest.approx(
            info.hyperparameters["learning_rate"]
        )
        assert run.data.tags["dynas.trial_id"] == info.trial_id
        assert run.data.tags["dynas.origin"] == info.origin


def test_lineage_tags_match_the_clone_events(tracked_job: TrackedJob) -> None:
    children = _children(tracked_job)
    clones = [e for e in tracked_job.stream if isinstance(e, IndividualInfo) and e.parent_id]
    assert clones, "the synthetic evolution must clone"
    for info in clones:
        tags = children[info.individual_id].data.tags
        assert tags["dynas.cloned_from"] == info.parent_id
        assert tags["dynas.cloned_from_run_id"] == children[info.parent_id].info.run_id
    fresh = {
        e.individual_id
        for e in tracked_job.stream
        if isinstance(e, IndividualInfo) and e.origin == "fresh"
    }
    for ind in fresh:
        assert "dynas.cloned_from_run_id" not in children[ind].data.tags


def test_layer_size_metrics_match_the_epoch_records(tracked_job: TrackedJob) -> None:
    client = _client(tracked_job)
    children = _children(tracked_job)
    expected: dict[tuple[str, int], dict[int, int]] = defaultdict(dict)
    accuracy: dict[str, dict[int, float]] = defaultdict(dict)
    for e in tracked_job.stream:
        if isinstance(e, EpochRecord):
            for i, n in enumerate(e.layer_sizes):
                expected[(e.individual_id, i)][e.age] = n
            accuracy[e.individual_id][e.age] = e.value
    for (ind, layer), by_age in expected.items():
        history = client.get_metric_history(children[ind].info.run_id, f"units/layer_{layer}")
        assert {m.step: int(m.value) for m in history} == by_age
    for ind, by_age in accuracy.items():
        history = client.get_metric_history(children[ind].info.run_id, "accuracy")
        assert {m.step: m.value for m in history} == pytest.approx(by_age)


def test_parent_trace_is_monotone_and_matches_the_bests(tracked_job: TrackedJob) -> None:
    client = _client(tracked_job)
    run_id = tracked_job.observer.run_id  # type: ignore[attr-defined]
    history = sorted(client.get_metric_history(run_id, "best_accuracy"), key=lambda m: m.timestamp)
    bests = [e for e in tracked_job.stream if isinstance(e, BestRecord)]
    assert [m.value for m in history] == pytest.approx([b.value for b in bests])
    assert all(a.value < b.value for a, b in itertools.pairwise(history))
    assert all(a.step <= b.step for a, b in itertools.pairwise(history))
    final = bests[-1]
    sizes = [
        client.get_metric_history(run_id, f"best/units/layer_{i}")[-1].value
        for i in range(len(final.layer_sizes))
    ]
    assert sizes == final.layer_sizes
    tags = client.get_run(run_id).data.tags
    assert json.loads(tags["dynas.best_layer_sizes"]) == final.layer_sizes
    assert "performance_trace.png" in {a.path for a in client.list_artifacts(run_id)}


def _need_models(job: TrackedJob) -> None:
    if not job.has_models:
        pytest.skip("dynas_service.nn (save_model_zip/load_model/predict) is not importable")


def test_registered_version_carries_the_best_metric(tracked_job: TrackedJob) -> None:
    _need_models(tracked_job)
    client = _client(tracked_job)
    final = [e for e in tracked_job.stream if isinstance(e, BestRecord)][-1]
    version = client.get_model_version("dynas-demo_job", "1")
    assert str(version.version) == tracked_job.observer.registered_version  # type: ignore[attr-defined]
    assert float(version.tags["accuracy"]) == pytest.approx(final.value)
    assert version.tags["dynas.individual_id"] == final.individual_id
    assert version.run_id == tracked_job.observer.run_id  # type: ignore[attr-defined]
    assert len(_logged_models(client, version.run_id)) >= 3, "one per phase when unthrottled"


def _logged_models(client: MlflowClient, run_id: str) -> list[object]:
    experiment = client.get_run(run_id).info.experiment_id
    return [m for m in client.search_logged_models([experiment]) if m.source_run_id == run_id]


def test_model_logging_is_throttled(tracked_job: TrackedJob, tmp_path: Path) -> None:
    """With a long interval only the first best and the final one are logged."""
    _need_models(tracked_job)
    from dynas_service.tracking import MlflowObserver

    stream = list(events(small_evolution(), nn_model_writer(tmp_path)))
    observer = MlflowObserver(
        tracked_job.uri, "dynas-test", "job-2", "throttled", SPEC, model_interval_s=3600
    )
    feed_in_phases(observer, stream, phases=3)
    observer.on_finish("stopped", None)
    assert observer.close(timeout=120)
    client = _client(tracked_job)
    assert observer.run_id is not None
    assert len(_logged_models(client, observer.run_id)) == 2
    assert client.get_run(observer.run_id).info.status == "KILLED"
    assert client.get_model_version("dynas-throttled", "1").run_id == observer.run_id


def test_logged_model_loads_and_predicts_like_the_service(tracked_job: TrackedJob) -> None:
    _need_models(tracked_job)
    import mlflow.pyfunc

    from dynas_service.nn import load_model, predict

    client = _client(tracked_job)
    final = [e for e in tracked_job.stream if isinstance(e, BestRecord)][-1]
    source = client.get_model_version("dynas-demo_job", "1").source
    model = mlflow.pyfunc.load_model(source)
    assert model.metadata.signature is not None
    x = np.random.default_rng(1).normal(size=(7, 64)).astype(np.float32)
    got = model.predict(x)
    want = predict(load_model(final.model_path), x)
    np.testing.assert_array_equal(got["prediction"].to_numpy(), want.predictions)
    probs = got[[f"probability_{k}" for k in range(10)]].to_numpy()
    np.testing.assert_allclose(probs, want.probabilities, rtol=1e-6)


def test_close_without_finish_ends_runs_and_survives_a_broken_model(
    tracked_job: TrackedJob,
) -> None:
    """A job that never reached on_finish (runner crash path) and whose best-model files are
    missing: metrics still arrive, the model failure is reported, the runs end as KILLED."""
    from dynas_service.tracking import MlflowObserver

    stream = list(events(small_evolution(epochs_per_generation=1)))  # model_path: missing.zip
    observer = MlflowObserver(tracked_job.uri, "dynas-test", "job-3", "crashed", SPEC)
    feed_in_phases(observer, stream, phases=1)
    assert observer.close(timeout=120)
    health = observer.health()
    assert health["model_error"] and health["failures"] == 0
    client = _client(tracked_job)
    assert observer.run_id is not None
    parent = client.get_run(observer.run_id)
    assert parent.info.status == "KILLED"
    assert parent.data.tags["dynas.status"] == "stopped"
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{observer.run_id}'"
    )
    assert len(children) == len({e.individual_id for e in stream if isinstance(e, IndividualInfo)})
    assert all(r.info.status == "KILLED" for r in children if r.data.tags["dynas.individual_id"]
               in {"i0", "i4", "i5"})  # fmt: skip
    assert all("accuracy" in r.data.metrics for r in children)
