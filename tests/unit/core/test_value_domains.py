"""Value domains: which series are non-negative, clamping, and the SLA maths on it.

Probabilities are checked against ``statistics.NormalDist`` of the forecast
*before* clamping, an independent reference for what the clamped point means.
"""

import math
from datetime import UTC, datetime
from statistics import NormalDist

import pytest

from monitoring_core.forecasts import Forecast, ForecastPoint
from monitoring_core.series import MetricKind, SeriesInfo, SeriesKey
from monitoring_core.slo import AllowedRange, Side, predict
from monitoring_core.value_domains import (
    ANY_VALUE,
    NON_NEGATIVE,
    history_domain,
    series_domain,
)

Z80 = NormalDist().inv_cdf(0.90)
Z95 = NormalDist().inv_cdf(0.975)
NOW = 1_800_000_000.0
KEY = SeriesKey.of("node_load1", {"instance": "a"})


def point(t: float, mean: float, sigma: float) -> ForecastPoint:
    return ForecastPoint(
        timestamp=t,
        mean=mean,
        lower_80=mean - Z80 * sigma,
        upper_80=mean + Z80 * sigma,
        lower_95=mean - Z95 * sigma,
        upper_95=mean + Z95 * sigma,
    )


def forecast(*points: ForecastPoint) -> Forecast:
    return Forecast(
        series=KEY,
        made_at=datetime.fromtimestamp(NOW, UTC),
        step_seconds=60,
        model="ses",
        holdout_mae=0.1,
        points=points,
    )


def clamped(mean: float, sigma: float, t: float = NOW + 60) -> ForecastPoint:
    (only,) = NON_NEGATIVE.clamp(forecast(point(t, mean, sigma))).points
    return only


def predict_one(
    p: ForecastPoint, allowed: AllowedRange, floor: float | None
) -> tuple[float, Side | None]:
    prediction = predict(
        [p], allowed, NOW, 600, 60, past=(), window_seconds=3600, target=0.99,
        floor=floor,
    )  # fmt: skip
    (only,) = prediction.slices
    return only.probability, only.side


def test_a_history_never_below_zero_is_non_negative() -> None:
    assert history_domain([0.0, 0.4, math.nan, 2.0]) == NON_NEGATIVE
    assert history_domain([0.3, -0.001, 2.0]) == ANY_VALUE
    assert history_domain([math.nan, math.nan]) == ANY_VALUE  # nothing measured
    assert history_domain([]) == ANY_VALUE


def test_a_per_second_rate_is_non_negative_whatever_its_history() -> None:
    counter = SeriesInfo(KEY, MetricKind.COUNTER)
    count = SeriesInfo(SeriesKey.of("rpc_seconds_count"), MetricKind.SUMMARY)
    quantile = SeriesInfo(
        SeriesKey.of("rpc_seconds", {"quantile": "0.5"}), MetricKind.SUMMARY
    )
    gauge = SeriesInfo(KEY, MetricKind.GAUGE)
    assert series_domain(counter, [-1.0, math.nan]) == NON_NEGATIVE
    assert series_domain(count, [-1.0]) == NON_NEGATIVE
    assert series_domain(quantile, [-1.0]) == ANY_VALUE
    assert series_domain(gauge, [-1.0, 3.0]) == ANY_VALUE
    assert series_domain(gauge, [0.0, 3.0]) == NON_NEGATIVE


def test_clamping_raises_only_what_lies_below_zero() -> None:
    original = forecast(point(NOW + 60, 0.5, 1.0), point(NOW + 120, -3.0, 1.0))
    first, second = NON_NEGATIVE.clamp(original).points
    assert (first.lower_80, first.lower_95) == (0.0, 0.0)
    assert (first.mean, first.upper_80, first.upper_95) == (
        original.points[0].mean,
        original.points[0].upper_80,
        original.points[0].upper_95,
    )
    # Entirely below zero: everything moves onto the bound.
    assert (second.mean, second.lower_95, second.upper_95) == (0.0, 0.0, 0.0)
    assert ANY_VALUE.clamp(original) is original


def test_a_forecast_inside_the_domain_is_returned_unchanged() -> None:
    inside = forecast(point(NOW + 60, 5.0, 1.0))
    assert NON_NEGATIVE.clamp(inside) is inside


def test_a_clamped_interval_keeps_its_coverage_of_non_negative_values() -> None:
    p = point(NOW + 60, 0.3, 1.0)
    c = clamped(0.3, 1.0)
    values = [i / 100 for i in range(0, 500)]  # every possible value up to 5
    for v in values:
        assert (p.lower_95 <= v <= p.upper_95) == (c.lower_95 <= v <= c.upper_95)
        assert (p.lower_80 <= v <= p.upper_80) == (c.lower_80 <= v <= c.upper_80)


@pytest.mark.parametrize("mean", [0.0, 0.3, 1.0])
def test_lo_zero_on_a_non_negative_series_is_never_predicted_bad(mean: float) -> None:
    p = clamped(mean, 1.0)
    assert p.lower_95 == 0.0
    allowed = AllowedRange(lo=0.0)
    # Without the floor the clamped interval reads as mass below zero ...
    assert predict_one(p, allowed, floor=None)[0] > 0.05
    # ... with it, a value on the bound is good and nothing lies below.
    assert predict_one(p, allowed, floor=0.0) == (0.0, None)


def test_the_spread_of_a_clamped_point_comes_from_its_upper_bounds() -> None:
    allowed = AllowedRange(lo=0.0, hi=1.5)
    for mean in (0.3, -0.5):  # lower bound clamped; mean clamped too
        probability, side = predict_one(clamped(mean, 1.0), allowed, floor=0.0)
        truth = 1 - NormalDist(mean, 1.0).cdf(1.5)
        assert probability == pytest.approx(truth, abs=1e-9)
        assert side is Side.ABOVE
    # Reading sigma off the clamped 95 % width instead would understate it.
    narrow = predict_one(clamped(0.3, 1.0), AllowedRange(hi=1.5), floor=None)[0]
    assert narrow < 1 - NormalDist(0.3, 1.0).cdf(1.5) - 0.05


def test_a_lo_above_the_floor_keeps_the_normal_tail() -> None:
    probability, side = predict_one(clamped(0.3, 1.0), AllowedRange(lo=0.5), floor=0.0)
    # max(0, X) < 0.5 exactly when X < 0.5: censoring at 0 changes nothing there.
    assert probability == pytest.approx(NormalDist(0.3, 1.0).cdf(0.5), abs=1e-9)
    assert side is Side.BELOW


def test_a_flat_series_sitting_on_zero_has_no_bad_slice() -> None:
    allowed = AllowedRange(lo=0.0, hi=1.0)
    assert predict_one(point(NOW + 60, 0.0, 0.0), allowed, floor=0.0) == (0.0, None)
    assert predict_one(clamped(0.0, 0.2), AllowedRange(lo=0.0), floor=0.0) == (
        0.0,
        None,
    )
    # Only the upper side is left: the normal tail above 1 of N(0, 0.2).
    probability, side = predict_one(clamped(0.0, 0.2), allowed, floor=0.0)
    assert probability == pytest.approx(1 - NormalDist(0, 0.2).cdf(1.0), rel=1e-6)
    assert side is Side.ABOVE


def test_unclamped_points_give_the_same_probability_with_or_without_floor() -> None:
    p = point(NOW + 60, 3.0, 1.0)
    allowed = AllowedRange(lo=2.0, hi=4.5)
    with_floor, _ = predict_one(p, allowed, floor=0.0)
    without, _ = predict_one(p, allowed, floor=None)
    truth = NormalDist(3.0, 1.0).cdf(2.0) + 1 - NormalDist(3.0, 1.0).cdf(4.5)
    assert with_floor == without == pytest.approx(truth, abs=1e-12)
