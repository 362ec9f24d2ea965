"""A forecast's summary of its horizon: predicted min <= avg <= max always."""

import math

import attrs

from monitoring_core.forecasts import Forecast
from tests.support.factories import band, forecast, forecast_with_distributions

FLAT = -1.6037179394953442
"""A value whose ten copies sum and divide back to one bit less (seen in CI)."""


def _flat(with_bands: bool) -> Forecast:
    plain = forecast()
    points = tuple(
        attrs.evolve(
            p,
            mean=FLAT,
            running_min=band(FLAT, 0.5, 1.0) if with_bands else None,
            running_max=band(FLAT, 0.5, 1.0) if with_bands else None,
        )
        for p in plain.points[:10]
    )
    return attrs.evolve(plain, points=points)


def test_the_rounding_case_is_real() -> None:
    assert math.fsum([FLAT] * 10) / 10 != FLAT


def test_a_flat_forecast_summarises_to_its_value() -> None:
    for with_bands in (True, False):
        flat = _flat(with_bands)
        assert flat.predicted_min == flat.predicted_avg == flat.predicted_max == FLAT


def test_the_summary_is_ordered_and_takes_the_medians() -> None:
    f = forecast_with_distributions()
    assert f.predicted_min <= f.predicted_avg <= f.predicted_max
    assert f.window_min is not None and f.window_max is not None
    assert f.predicted_min == min(f.window_min.median, f.predicted_avg)
    assert f.predicted_max == max(f.window_max.median, f.predicted_avg)


def test_a_minimum_median_above_the_mean_is_held_at_the_mean() -> None:
    f = forecast_with_distributions()
    high = tuple(
        attrs.evolve(p, running_min=band(f.predicted_avg + 1.0, 0.5, 1.0))
        for p in f.points
    )
    lifted = attrs.evolve(f, points=high)
    assert lifted.predicted_min == lifted.predicted_avg
