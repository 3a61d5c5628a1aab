"""Search spaces: mapping, sampling, validation, the thesis defaults, the API's JSON shape."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from dynas_service.search import CategoricalParam, FloatParam, IntParam, SearchSpace


def test_linear_and_log_float_mapping() -> None:
    linear = FloatParam(1.0, 3.0)
    log = FloatParam(1e-4, 1e-2, log=True)
    assert linear.from_relative(0.25) == pytest.approx(1.5)
    assert log.from_relative(0.5) == pytest.approx(1e-3)
    assert (log.from_relative(0.0), log.from_relative(1.0)) == (1e-4, 1e-2)
    assert log.to_relative(1e-3) == pytest.approx(0.5)


def test_int_mapping_rounds_half_up_and_stays_in_bounds() -> None:
    p = IntParam(16, 64)
    assert p.from_relative(0.5) == 40
    assert p.from_relative(0.25) == 28
    assert p.from_relative(1 / 96) == 17  # 16.5 rounds up
    assert isinstance(p.from_relative(0.3), int)
    assert p.clip(70.2) == 64 and p.clip(3) == 16


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: FloatParam(2.0, 1.0), "low=2.0"),
        (lambda: FloatParam(1.0, 1.0), "low must be < high"),
        (lambda: FloatParam(0.0, 1.0, log=True), "low > 0"),
        (lambda: IntParam(1.5, 4), "1.5"),
        (lambda: FloatParam(0.0, math.inf), "inf"),
        (lambda: CategoricalParam(()), "empty"),
        (lambda: CategoricalParam(("a", "a")), "distinct"),
        (lambda: FloatParam(0, 1).from_relative(1.5), "v=1.5"),
    ],
)
def test_invalid_domains_raise_naming_the_value(make, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        make()


def test_unknown_names_are_rejected() -> None:
    space = SearchSpace.default(dynamic=True, hidden_layers=2)
    with pytest.raises(ValueError, match="units_0"):
        space.from_relative({"units_0": 0.5})
    with pytest.raises(ValueError, match="dropout"):
        space.clip({"learning_rate": 1e-4, "dropout": 0.1})
    with pytest.raises(ValueError, match="'c'"):
        SearchSpace({"x": CategoricalParam(("a", "b"))}).clip({"x": "c"})


def test_default_spaces_follow_the_thesis() -> None:
    dynamic = SearchSpace.default(dynamic=True, hidden_layers=5)
    static = SearchSpace.default(dynamic=False, hidden_layers=3)
    assert dynamic.names == ("learning_rate", "batch_size", "reg_strength")
    assert static.names == (*dynamic.names, "units_0", "units_1", "units_2")
    assert dynamic.params["learning_rate"] == FloatParam(1e-4, 6e-4)
    assert dynamic.params["batch_size"] == IntParam(16, 64)
    assert dynamic.params["reg_strength"] == FloatParam(10**-4.5, 1e-3, log=True)
    assert static.params["units_2"] == IntParam(10, 100)


def test_sampling_is_seeded_in_bounds_and_log_uniform() -> None:
    space = SearchSpace.default(dynamic=False, hidden_layers=1)
    draws = [space.sample(np.random.default_rng(0)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(1)
    samples = [space.sample(rng) for _ in range(4000)]
    regs = np.log10([s["reg_strength"] for s in samples])
    assert regs.min() >= -4.5 and regs.max() <= -3
    assert abs(np.median(regs) + 3.75) < 0.05  # log-uniform: median at the log midpoint
    batches = {s["batch_size"] for s in samples}
    assert batches == set(range(16, 65))  # both ends included
    assert all(space.clip(s) == s for s in samples[:50])


def test_from_dict_accepts_the_api_shape_and_round_trips() -> None:
    spec = {
        "learning_rate": {"low": 1e-4, "high": 6e-4},
        "batch_size": {"low": 16, "high": 64, "type": "int"},
        "reg_strength": {"low": 3.2e-5, "high": 1e-3, "log": True},
        "activation": {"choices": ["relu", "tanh"]},
    }
    space = SearchSpace.from_dict(spec)
    assert space.params["batch_size"] == IntParam(16, 64)
    assert space.params["reg_strength"] == FloatParam(3.2e-5, 1e-3, log=True)
    assert space.params["activation"] == CategoricalParam(("relu", "tanh"))
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert pickle.loads(pickle.dumps(space)) == space


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"low": 1.0}, "lacks 'high'"),
        ({"low": 2.0, "high": 1.0}, "'lr'"),
        ({"low": 1, "high": 2, "type": "complex"}, "complex"),
        ({"low": 1, "high": 2, "step": 1}, "step"),
        ({"low": 1, "high": 2, "log": "yes"}, "yes"),
        ({"low": "a", "high": 2}, "'a'"),
        ([1, 2], "mapping"),
    ],
)
def test_from_dict_rejects_bad_entries_naming_them(entry: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        SearchSpace.from_dict({"lr": entry})  # type: ignore[dict-item]
