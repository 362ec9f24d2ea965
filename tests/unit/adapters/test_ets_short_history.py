"""Short histories: a hold-out shorter than the horizon, long histories unchanged."""

import math
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from adapters.forecasting.ets import MIN_HOLDOUT, VectorizedEtsForecaster
from adapters.forecasting.ets_models import MODELS, Selection, select
from monitoring_core.forecasts import Forecast
from tests.contracts.forecaster_contract import (
    AT,
    NAN,
    history,
    line,
    noisy_level,
    random_walk,
)

Array = np.ndarray[Any, Any]
OLD_RULE = VectorizedEtsForecaster(min_short_points=10**9)
"""The engine before short histories: only ``2 h + 10`` observations or more."""


def batch(n: int = 40, steps: int = 200, seed: int = 0) -> Array:
    """Walks, noise and trends with missing values, leading and trailing gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    rows = [
        100 + np.cumsum(rng.normal(size=steps)),
        50 + rng.normal(size=steps),
        0.3 * t + rng.normal(size=steps),
    ]
    values = np.stack([rows[i % 3] + rng.normal(size=steps) for i in range(n)])
    values[rng.random(values.shape) < 0.05] = NAN
    values[::7, :30] = NAN
    values[::5, -3:] = NAN
    return values


def assert_same_selection(a: Selection, b: Selection) -> None:
    np.testing.assert_array_equal(a.model, b.model)
    np.testing.assert_array_equal(a.holdout_mae, b.holdout_mae)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.variance, b.variance)


def forecast(values: list[float], horizon: int, step: int = 60) -> list[Forecast]:
    return VectorizedEtsForecaster().forecast(
        [history(values, step=step)], horizon, AT, {}
    )


def as_arrays(forecasts: list[Forecast]) -> tuple[list[str], Array, Array]:
    """Models, hold-out errors and all point numbers, for exact comparison."""
    numbers = np.array(
        [
            [
                [p.timestamp, p.mean, p.lower_80, p.upper_80, p.lower_95, p.upper_95]
                for p in f.points
            ]
            for f in forecasts
        ]
    )
    maes = np.array([f.holdout_mae for f in forecasts])
    return [f.model for f in forecasts], maes, numbers


# -- enough data: bit-identical to before ------------------------------------


@pytest.mark.parametrize("horizon", [1, 10, 30])
def test_select_holds_out_the_horizon_by_default(horizon: int) -> None:
    values = batch()
    allow = np.arange(values.shape[0]) % 4 != 0
    with np.errstate(all="ignore"):
        assert_same_selection(
            select(values, horizon, allow),
            select(values, horizon, allow, holdout=horizon),
        )


def test_long_histories_get_the_same_forecasts_as_before() -> None:
    values = batch(n=60, steps=120)
    long = [history(row.tolist(), f"long{i}") for i, row in enumerate(values)]
    short = [
        history(noisy_level(n=20 + i, seed=i), f"short{i}") for i in range(0, 10, 3)
    ]
    mixed = [s for pair in zip(long, short * 15, strict=True) for s in pair]
    before = OLD_RULE.forecast(mixed, 10, AT, {})
    after = VectorizedEtsForecaster().forecast(mixed, 10, AT, {})
    assert {f.series.name for f in before} == {h.series.name for h in long}
    kept = [f for f in after if f.series.name.startswith("long")]
    models, maes, numbers = as_arrays(before)
    new_models, new_maes, new_numbers = as_arrays(kept)
    assert models == new_models
    np.testing.assert_array_equal(maes, new_maes)
    np.testing.assert_array_equal(numbers, new_numbers)
    assert [f.series for f in before] == [f.series for f in kept]


def test_a_long_history_is_forecast_from_the_full_hold_out() -> None:
    values = np.array(random_walk(n=30, seed=4))  # 2 h + 10: the full hold-out
    [result] = forecast(values.tolist(), 10)
    [reference] = OLD_RULE.forecast([history(values.tolist())], 10, AT, {})
    assert result == reference
    with np.errstate(all="ignore"):
        chosen = select(values[None, :], 10, np.array([True]))
    assert result.holdout_mae == chosen.holdout_mae[0]
    np.testing.assert_array_equal([p.mean for p in result.points], chosen.mean[0])


# -- short histories -----------------------------------------------------------


def test_a_new_series_is_forecast_over_a_long_horizon() -> None:
    # 25 scrapes at 5 s, a 10-minute horizon: 120 steps from 25 values.
    values = random_walk(n=25, seed=1)
    [result] = forecast(values, 120, step=5)
    source = history(values, step=5)
    assert result.model in MODELS
    assert [p.timestamp for p in result.points] == [
        source.end + 5 * k for k in range(1, 121)
    ]
    for p in result.points:
        bounds = [p.lower_95, p.lower_80, p.mean, p.upper_80, p.upper_95]
        assert all(math.isfinite(b) for b in bounds)
        assert bounds == sorted(bounds)
    widths = [p.upper_95 - p.lower_95 for p in result.points]
    assert all(b >= a for a, b in pairwise(widths))
    assert widths[-1] > 2 * widths[0] > 0
    assert math.isfinite(result.holdout_mae) and result.holdout_mae > 0


@pytest.mark.parametrize(
    ("n", "horizon", "holdout"),
    [(20, 10, 5), (23, 10, 5), (24, 10, 6), (29, 10, 7), (25, 120, 6), (249, 120, 62)],
)
def test_the_hold_out_is_a_quarter_of_a_short_history(
    n: int, horizon: int, holdout: int
) -> None:
    values = np.array(random_walk(n=n, seed=n))
    [result] = forecast(values.tolist(), horizon)
    with np.errstate(all="ignore"):
        chosen = select(values[None, :], horizon, np.array([True]), holdout)
    assert result.model == MODELS[chosen.model[0]]
    assert result.holdout_mae == chosen.holdout_mae[0]
    np.testing.assert_array_equal([p.mean for p in result.points], chosen.mean[0])
    upper = chosen.mean[0] + 1.959963984540054 * np.sqrt(chosen.variance[0])
    np.testing.assert_allclose([p.upper_95 for p in result.points], upper, rtol=1e-12)


def test_holdout_mae_of_the_mean_model_by_hand() -> None:
    values = np.array(noisy_level(n=25, seed=3))
    [result] = forecast(values.tolist(), 120)
    assert result.model == "mean"
    held = 25 // 4
    by_hand = np.mean(np.abs(values[-held:] - np.mean(values[:-held])))
    assert math.isclose(result.holdout_mae, by_hand, rel_tol=1e-12)


def test_short_intervals_are_the_widest_of_the_candidate_families() -> None:
    # A clean line picks the trend, but 25 points cannot rule the others out.
    values = np.array(line(n=25))
    with np.errstate(all="ignore"):
        short = select(values[None, :], 10, np.array([True]), holdout=6)
        full = select(values[None, :], 10, np.array([True]))
        no_trend = select(values[None, :], 10, np.array([False]), holdout=6)
    assert MODELS[short.model[0]] == MODELS[full.model[0]] == "holt_damped"
    np.testing.assert_array_equal(short.mean, full.mean)
    assert (short.variance > full.variance).all()
    sample_variance = np.var(values, ddof=1) * (1 + 1 / 25)  # the mean model's
    assert short.variance[0, 0] == pytest.approx(sample_variance, rel=1e-12)
    assert (no_trend.variance <= short.variance).all()


def test_a_short_constant_series_keeps_zero_width_intervals() -> None:
    [result] = forecast([7.25] * 20, 120)
    assert result.model == "mean"
    assert all(p.lower_95 == p.mean == p.upper_95 == 7.25 for p in result.points)
    assert result.holdout_mae == 0


def test_short_histories_alone_or_grouped_with_others_agree() -> None:
    sources = [history(random_walk(n=20 + i, seed=i), f"w{i}") for i in range(12)]
    sources += [
        history([NAN] * (40 - i) + noisy_level(n=21 + i), f"n{i}") for i in range(5)
    ]
    sources += [history(random_walk(n=200, seed=99), "long")]
    whole = VectorizedEtsForecaster().forecast(sources, 10, AT, {})
    assert [f.series for f in whole] == [s.series for s in sources]
    for together, source in zip(whole, sources, strict=True):
        [alone] = VectorizedEtsForecaster().forecast([source], 10, AT, {})
        assert together.model == alone.model
        assert together.holdout_mae == pytest.approx(alone.holdout_mae, rel=1e-12)
        np.testing.assert_allclose(
            [[p.mean, p.upper_95] for p in together.points],
            [[p.mean, p.upper_95] for p in alone.points],
            rtol=1e-12,
        )


# -- too short or gone -----------------------------------------------------------


def test_fewer_than_min_short_points_get_no_forecast() -> None:
    assert forecast(random_walk(n=19), 120) == []
    assert forecast([NAN] * 40 + random_walk(n=19), 10) == []
    assert len(forecast(random_walk(n=20), 120)) == 1
    stricter = VectorizedEtsForecaster(min_short_points=25)
    assert stricter.forecast([history(random_walk(n=24))], 10, AT, {}) == []
    assert len(stricter.forecast([history(random_walk(n=25))], 10, AT, {})) == 1


def test_min_short_points_keeps_a_quarter_for_the_hold_out() -> None:
    with pytest.raises(ValueError, match="min_short_points"):
        VectorizedEtsForecaster(min_short_points=4 * MIN_HOLDOUT - 1)


def test_a_short_history_needs_an_observation_in_its_hold_out() -> None:
    values = random_walk(n=24)  # hold-out 24 // 4 = 6 steps
    assert forecast(values + [NAN] * 6, 10) == []
    [gapped] = forecast(values + [NAN] * 5, 10)
    [complete] = forecast(values, 10)
    # The trailing gap pushes the forecast further out: wider intervals.
    assert gapped.points[0].upper_95 - gapped.points[0].lower_95 > (
        complete.points[0].upper_95 - complete.points[0].lower_95
    )
