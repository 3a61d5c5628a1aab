"""Performance traces, profiles, the area under the expected quality, and the PNG plot."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from dynas_service.search import (
    PerformanceTrace,
    area_under_expected_quality,
    expected_quality,
    performance_profile,
    plot_traces,
)


def trace(points: list[tuple[float, float]], higher: bool = True) -> PerformanceTrace:
    result = PerformanceTrace(higher_is_better=higher)
    for t, v in points:
        result.record(t, v)
    return result


def test_trace_keeps_the_best_so_far_in_the_metric_direction() -> None:
    accuracy = PerformanceTrace(higher_is_better=True)
    improved = [
        accuracy.record(t, v) for t, v in [(1, 0.5), (2, 0.4), (3, 0.7), (3, 0.8), (5, math.nan)]
    ]
    assert improved == [True, False, True, True, False]
    assert accuracy.points == [(1.0, 0.5), (3.0, 0.8)]
    rmse = trace([(1, 3.0), (2, 4.0), (4, 2.0)], higher=False)
    assert rmse.points == [(1.0, 3.0), (4.0, 2.0)]
    assert (rmse.value_at(0.5), rmse.value_at(1), rmse.value_at(3.9), rmse.value_at(9)) == (
        None,
        3.0,
        3.0,
        2.0,
    )
    assert pickle.loads(pickle.dumps(rmse)).points == rmse.points


def test_trace_rejects_time_going_backwards() -> None:
    t = trace([(5, 0.1)])
    with pytest.raises(ValueError, match="t=4"):
        t.record(4, 0.9)
    with pytest.raises(ValueError, match="t=-1"):
        PerformanceTrace(True).record(-1, 0.9)


def test_profile_and_expected_quality_by_hand() -> None:
    runs = [trace([(1, 0.5), (3, 0.9)]), trace([(2, 0.6)])]
    times = [0.5, 1, 2, 3]
    assert performance_profile(runs, times, 0.55).tolist() == [0.0, 0.0, 0.5, 1.0]
    assert performance_profile(runs, times, 0.9).tolist() == [0.0, 0.0, 0.0, 0.5]
    quality = expected_quality(runs, times, initial=0.0)
    np.testing.assert_allclose(quality, [0.0, 0.25, 0.55, 0.75])
    np.testing.assert_allclose(expected_quality(runs, [1.0]), [0.5])  # default: worst first value


def test_profile_for_lower_is_better_metrics() -> None:
    runs = [trace([(1, 2.0), (2, 1.0)], higher=False), trace([(1, 3.0)], higher=False)]
    assert performance_profile(runs, [1, 2], 2.0).tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="mix"):
        performance_profile([*runs, trace([(1, 0.5)])], [1], 0.5)


def test_area_under_expected_quality_is_exact() -> None:
    runs = [trace([(1, 0.5), (3, 0.9)]), trace([(2, 0.6)])]
    # mean: 0 on [0,1), 0.25 on [1,2), 0.55 on [2,3), 0.75 on [3,4]
    area = area_under_expected_quality(runs, 0, 4, initial=0.0)
    assert area == pytest.approx(0.25 + 0.55 + 0.75)
    assert area_under_expected_quality(runs, 2.5, 3.5, initial=0.0) == pytest.approx(
        0.5 * 0.55 + 0.5 * 0.75
    )
    faster = [trace([(0.5, 0.5), (1, 0.9)]), trace([(1, 0.6)])]
    assert area_under_expected_quality(faster, 0, 4, initial=0.0) > area
    with pytest.raises(ValueError, match="t0"):
        area_under_expected_quality(runs, 3, 3)


def test_plot_traces_returns_a_png_that_depends_on_the_data() -> None:
    runs = [trace([(1, 0.5), (3, 0.9)]), trace([(2, 0.6)])]
    png = plot_traces(runs, title="random search")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    grouped = plot_traces({"random": runs, "grid": [trace([(1, 0.7)])]}, ylabel="accuracy")
    assert grouped.startswith(b"\x89PNG") and grouped != png
    assert plot_traces([PerformanceTrace(True)]).startswith(b"\x89PNG")  # empty runs still plot
