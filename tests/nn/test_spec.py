"""Spec and settings: validation, JSON round trip, defaults."""

from __future__ import annotations

import json

import pytest

from dynas_service.nn import ArchitectureSpec, DynamicSettings, build_model, default_spec


def test_spec_round_trips_through_json() -> None:
    spec = default_spec("cnn", (3, 32, 32), 10, "classification")
    again = ArchitectureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert spec.dropout == (0.0, 0.2, 0.0, 0.5, 0.0)
    assert spec.n_conv == 4


def test_default_mlp_has_five_dense_layers_without_dropout() -> None:
    spec = default_spec("mlp", (27,), 1, "regression", initial_units=50)
    assert spec.hidden_sizes == (50,) * 5 and spec.dropout == (0.0,) * 5


def test_model_sizes_follow_the_spec() -> None:
    spec = default_spec("cnn", (1, 8, 8), 10, "classification", hidden_layers=3, initial_units=7)
    model = build_model(spec, device="cpu")
    assert model.layer_sizes() == [7, 7, 7]
    assert model.conv_output_hw == (4, 4)
    assert model.hidden_layers[2].n_inputs == 7 * 16
    assert model.spec == spec
    expected = (1 * 9 + 1) * 7 + (7 * 9 + 1) * 7 + (7 * 16 + 1) * 7 + (7 + 1) * 10
    assert model.n_parameters() == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "rnn"}, "family='rnn'"),
        ({"task": "ranking"}, "task='ranking'"),
        ({"input_shape": (64,), "family": "cnn"}, "input_shape"),
        ({"hidden_sizes": (5, 0), "dropout": (0.0, 0.0)}, "hidden_sizes"),
        ({"dropout": (0.0,)}, "dropout"),
        ({"dropout": (1.0, 0.0)}, "dropout"),
        ({"n_outputs": 1}, "n_outputs=1"),
        ({"task": "regression"}, "n_outputs=3"),
    ],
)
def test_bad_specs_raise_value_error(kwargs: dict, message: str) -> None:
    base = {
        "family": "mlp",
        "input_shape": (1, 4, 4),
        "n_outputs": 3,
        "task": "classification",
        "hidden_sizes": (5, 5),
        "dropout": (0.0, 0.0),
    }
    with pytest.raises(ValueError, match=message):
        ArchitectureSpec(**{**base, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau": 0.0}, "tau=0.0"),
        ({"growth_fraction": -0.1}, "growth_fraction"),
        ({"min_growth": -1}, "min_growth"),
        ({"optimizer_state": "fresh"}, "optimizer_state='fresh'"),
    ],
)
def test_bad_settings_raise_value_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DynamicSettings(**kwargs)


def test_growth_is_a_fraction_with_a_minimum() -> None:
    settings = DynamicSettings()
    assert settings.growth(20) == 20
    assert settings.growth(101) == 20
    assert settings.growth(150) == 30
    assert DynamicSettings(growth_fraction=0.5, min_growth=0).growth(7) == 3


def test_from_dict_rejects_missing_and_non_integer_fields() -> None:
    data = default_spec("mlp", (4,), 2, "classification").to_dict()
    with pytest.raises(ValueError, match="lacks"):
        ArchitectureSpec.from_dict({k: v for k, v in data.items() if k != "task"})
    with pytest.raises(ValueError, match="non-integer"):
        ArchitectureSpec.from_dict({**data, "hidden_sizes": [1.5, 2, 2, 2, 2]})


def test_dropout_options() -> None:
    assert default_spec("cnn", (1, 8, 8), 2, "classification", hidden_layers=7).dropout == (
        0.0,
        0.2,
        0.0,
        0.5,
        0.0,
        0.5,
        0.0,
    )
    assert default_spec("mlp", (4,), 2, "classification", dropout=0.1).dropout == (0.1,) * 5
    spec = default_spec("mlp", (4,), 2, "classification", hidden_layers=2, dropout=[0.3, 0.0])
    assert spec.dropout == (0.3, 0.0)
    with pytest.raises(ValueError, match="hidden_layers=0"):
        default_spec("mlp", (4,), 2, "classification", hidden_layers=0)


def test_a_deep_copy_is_an_independent_model() -> None:
    import copy

    import torch

    from dynas_service.nn import grow

    model = build_model(default_spec("cnn", (1, 8, 8), 3, "classification"), device="cpu")
    clone = copy.deepcopy(model)
    grow(clone, None, DynamicSettings(), torch.Generator().manual_seed(0))
    assert model.layer_sizes() == [20] * 5 and clone.layer_sizes() == [40] * 5
    assert clone(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
