"""JobSpec validation: defaults of the method, and 422-worthy errors naming their field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dynas_service.jobs import JobSpec, SpecError, build_space, resolve_spec


def error_locs(**spec: object) -> list[tuple]:
    with pytest.raises(ValidationError) as caught:
        JobSpec(**spec)  # type: ignore[arg-type]
    return [tuple(error["loc"]) for error in caught.value.errors()]


def test_only_dataset_gives_the_method_defaults() -> None:
    spec = JobSpec(dataset="digits")
    assert spec.algorithm == "evolution"
    assert spec.model.regularizer == "weighted_l1" and spec.model.dynamic
    assert (spec.model.hidden_layers, spec.model.initial_units) == (5, 20)
    assert spec.budget.seconds == 600 and spec.budget.trials is None
    assert spec.validation_fraction == 0.2 and spec.sample == 1.0
    assert spec.display_name() == "digits-evolution"


def test_budget_semantics() -> None:
    assert JobSpec(dataset="d", budget={"trials": 5}).budget.seconds is None
    assert JobSpec(dataset="d", budget={}).budget.seconds == 600
    until_stopped = JobSpec(dataset="d", budget={"seconds": None, "trials": None}).budget
    assert (until_stopped.seconds, until_stopped.trials) == (None, None)


@pytest.mark.parametrize(
    ("spec", "loc"),
    [
        ({"budget": {"seconds": 0}}, ("budget", "seconds")),
        ({"budget": {"seconds": -5}}, ("budget", "seconds")),
        ({"budget": {"trials": 0}}, ("budget", "trials")),
        ({"algorithm": "annealing"}, ("algorithm",)),
        ({"algorithm_options": {"bogus": 1}}, ("algorithm_options",)),
        ({"algorithm": "random", "algorithm_options": {"population": 4}}, ("algorithm_options",)),
        (
            {"search_space": {"learning_rate": {"low": 0.1, "high": 0.01}}},
            ("search_space", "learning_rate"),
        ),
        ({"search_space": {"dropout_rate": {"low": 0.1, "high": 0.2}}}, ("search_space",)),
        ({"search_space": {"units_0": {"low": 10, "high": 20}}}, ("search_space",)),
        ({"model": {"family": "transformer"}}, ("model", "family")),
        ({"model": {"regularizer": "l3"}}, ("model", "regularizer")),
        ({"model": {"hidden_layers": 2, "dropout": [0.1]}}, ("model", "dropout")),
        ({"sample": 0}, ("sample",)),
        ({"validation_fraction": 1.0}, ("validation_fraction",)),
        ({"unknown_field": 1}, ("unknown_field",)),
        ({"resources": {"gpus_per_trial": -1}}, ("resources", "gpus_per_trial")),
    ],
)
def test_invalid_specs_name_their_field(spec: dict, loc: tuple) -> None:
    assert loc in error_locs(dataset="digits", **spec)


def test_known_algorithm_options_are_accepted_and_checked_by_value() -> None:
    JobSpec(dataset="d", algorithm="random", algorithm_options={"patience": 3})
    assert ("algorithm_options",) in error_locs(
        dataset="d", algorithm="random", algorithm_options={"patience": -3}
    )


def test_static_models_may_search_layer_sizes() -> None:
    spec = JobSpec(
        dataset="d",
        model={"dynamic": False, "hidden_layers": 2},
        search_space={"units_1": {"low": 5, "high": 50, "type": "int"}},
    )
    space = build_space(spec)
    assert {"units_0", "units_1", "learning_rate"} <= set(space.names)
    assert space.params["units_1"].high == 50


def test_family_follows_the_input_shape() -> None:
    assert resolve_spec(JobSpec(dataset="d"), (1, 8, 8), 0).model.family == "cnn"
    assert resolve_spec(JobSpec(dataset="d"), (81,), 0).model.family == "mlp"
    assert (
        resolve_spec(JobSpec(dataset="d", model={"family": "mlp"}), (1, 8, 8), 0).model.family
        == "mlp"
    )


def test_cnn_on_tabular_data_and_too_many_gpus_are_rejected() -> None:
    with pytest.raises(SpecError) as caught:
        resolve_spec(JobSpec(dataset="d", model={"family": "cnn"}), (81,), 0)
    assert caught.value.field == ("model", "family")
    with pytest.raises(SpecError) as caught:
        resolve_spec(JobSpec(dataset="d", resources={"gpus_per_trial": 1}), (81,), 0.0)
    assert caught.value.field == ("resources", "gpus_per_trial")
    assert resolve_spec(JobSpec(dataset="d", resources={"gpus_per_trial": 1}), (81,), 2.0)
