"""Early stopping and progressive growth's stall schedule on scripted loss sequences."""

from __future__ import annotations

import pytest

from dynas_service.search import (
    EarlyStoppingMonitor,
    EpochDecision,
    ProgressiveGrowth,
    ProgressiveGrowthMonitor,
    RandomSearch,
    SearchSpace,
)


def feed(
    monitor: EarlyStoppingMonitor | ProgressiveGrowthMonitor, losses: list[float]
) -> list[EpochDecision]:
    return [monitor.observe(epoch, loss) for epoch, loss in enumerate(losses)]


def test_early_stopping_stops_at_the_eighth_setback() -> None:
    losses = [1.0, 0.8, 0.9, 0.7] + [0.75] * 7 + [0.71, 0.5]
    stops = [d.stop for d in feed(EarlyStoppingMonitor(patience=8), losses)]
    assert stops.index(True) == 11  # epoch 3 is the best; epochs 4..11 are 8 setbacks
    assert all(d.reg_strength is None for d in feed(EarlyStoppingMonitor(), losses))


def test_an_improvement_resets_the_patience_and_nan_is_a_setback() -> None:
    losses = [1.0, 1.1, 1.2, 0.9, float("nan"), 1.0, 0.95]
    stops = [d.stop for d in feed(EarlyStoppingMonitor(patience=3), losses)]
    assert stops == [False, False, False, False, False, False, True]


def test_max_epochs_bounds_every_trial() -> None:
    stops = [d.stop for d in feed(EarlyStoppingMonitor(patience=8, max_epochs=5), [5, 4, 3, 2, 1])]
    assert stops == [False, False, False, False, True]


def test_progressive_stall_logic_on_a_scripted_sequence() -> None:
    monitor = ProgressiveGrowthMonitor()
    script = [
        (1.0, None, False),
        (0.9, None, False),
        (0.95, 5e-4, False),  # first epoch of a stall: halve
        (0.92, None, False),  # the stall goes on: once per stall
        (0.8, None, False),  # improvement ends the stall
        (0.8, 2.5e-4, False),  # equal is not better: a new stall
        (0.7, None, False),
        (0.9, 1.25e-4, False),
        (0.6, None, False),
        (0.65, 6.25e-5, False),
        (0.5, None, False),
        (0.55, 3.125e-5, True),  # below the floor 3.2e-5: restart
    ]
    decisions = feed(monitor, [loss for loss, _, _ in script])
    for decision, (_, reg, stop) in zip(decisions, script, strict=True):
        assert decision.stop is stop
        if reg is None:
            assert decision.reg_strength is None
        else:
            assert decision.reg_strength == pytest.approx(reg)


def test_progressive_restarts_after_a_stall_longer_than_ten_epochs() -> None:
    monitor = ProgressiveGrowthMonitor()
    decisions = feed(monitor, [1.0] + [1.5] * 12)
    stops = [d.stop for d in decisions]
    assert stops.index(True) == 11  # the 11th stalled epoch: stall > 10
    assert [d.reg_strength for d in decisions[1:3]] == [5e-4, None]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"multiplier": 1.0}, "multiplier"),
        ({"initial_reg_strength": 0.0}, "initial_reg_strength"),
        ({"max_stall_epochs": 0}, "max_stall_epochs"),
        ({"max_epochs": 2.5}, "max_epochs"),
    ],
)
def test_invalid_monitor_settings_raise(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        ProgressiveGrowthMonitor(**kwargs)


def test_suggestions_carry_reg_strength() -> None:
    space = SearchSpace.default(dynamic=True, hidden_layers=2)
    random = RandomSearch(space, seed=0).suggest()
    progressive = ProgressiveGrowth(space, seed=0, initial_reg_strength=2e-4)
    first = progressive.suggest()
    assert random is not None and first is not None
    assert (
        set(random.params) == set(first.params) == {"learning_rate", "batch_size", "reg_strength"}
    )
    assert first.params["reg_strength"] == 2e-4
    assert progressive.monitor(first).reg_strength == 2e-4


def test_max_trials_exhausts_a_random_search() -> None:
    search = RandomSearch(SearchSpace.default(dynamic=True, hidden_layers=1), seed=0, max_trials=3)
    keys = [s.key for s in iter(search.suggest, None)]
    assert keys == ["random-0", "random-1", "random-2"]
