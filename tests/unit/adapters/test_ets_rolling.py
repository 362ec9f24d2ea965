"""Rolling-origin calibration of the vectorised engine (ADR 0040)."""

from datetime import UTC, datetime

import numpy as np

from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.forecasting.ets_rolling import _quantiles
from monitoring_core.forecasts import BAND_LEVELS
from monitoring_core.series import SeriesHistory, SeriesKey

H = 10
AT = datetime(2024, 1, 1, tzinfo=UTC)


def _history(values: list[float], name: str = "s") -> SeriesHistory:
    return SeriesHistory(
        series=SeriesKey.of(name, {}), start=0.0, step_seconds=60, values=tuple(values)
    )


def test_quantiles_equal_numpys_with_missing_samples() -> None:
    rng = np.random.default_rng(3)
    samples = rng.standard_t(3, size=(4, 6, 57))
    samples[rng.random(samples.shape) < 0.2] = np.nan
    samples[1, 2, :] = np.nan  # a row and step with no sample at all
    ours = _quantiles(samples)  # N x h x 5 from h x N x O
    for step in range(4):
        for row in range(6):
            expected = (
                np.nanquantile(samples[step, row], BAND_LEVELS)
                if (~np.isnan(samples[step, row])).any()
                else np.full(5, np.nan)
            )
            np.testing.assert_allclose(ours[row, step], expected, rtol=1e-12)


def test_a_series_sitting_on_zero_keeps_its_point_mass_there() -> None:
    # Mostly 0 with rare bursts: the lower quantiles are exactly 0, not a
    # symmetric spread below it, so a range 'x >= 0' is never "half bad".
    rng = np.random.default_rng(5)
    values = np.where(rng.random(300) < 0.05, rng.uniform(1, 5, 300), 0.0).tolist()
    [forecast] = VectorizedEtsForecaster().forecast([_history(values)], H, AT, {})
    assert forecast.window_min is not None
    for p in forecast.points:
        assert p.lower_95 >= -1e-9 or p.mean > 0
    assert forecast.window_min.median <= forecast.points[0].mean


def test_a_random_walk_is_not_forecast_by_its_mean() -> None:
    rng = np.random.default_rng(2)
    values = (100 + np.cumsum(rng.normal(0, 1, 360))).tolist()
    [forecast] = VectorizedEtsForecaster().forecast([_history(values)], H, AT, {})
    assert forecast.model in {"ses", "holt_damped"}
    assert abs(forecast.points[0].mean - values[-1]) < 3
