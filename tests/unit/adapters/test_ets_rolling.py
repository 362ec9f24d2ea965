"""Rolling-origin calibration of the vectorised engine (ADR 0040)."""

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pytest

from adapters.forecasting import ets_rolling
from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.forecasting.ets_rolling import (
    Calibrated,
    _quantiles,
    _weighted_quantiles,
    calibrate,
    sort_order,
)
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


def _weighted_reference(samples: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One row's weighted quantiles, plainly: a stable sort, the midpoint rule."""
    keep = ~np.isnan(samples)
    if not keep.any():
        return np.full(len(BAND_LEVELS), np.nan)
    order = np.argsort(samples[keep], kind="stable")
    value, weight = samples[keep][order], weights[keep][order]
    cumulative = np.cumsum(weight)
    centre = (cumulative - 0.5 * weight) / cumulative[-1]
    out = []
    for level in BAND_LEVELS:
        above = np.flatnonzero(centre >= level)
        j = int(above[0]) if above.size else value.size - 1
        i = max(j - 1, 0)
        if centre[j] > centre[i]:
            share = min(max((level - centre[i]) / (centre[j] - centre[i]), 0.0), 1.0)
        else:
            share = 1.0
        out.append(value[i] + share * (value[j] - value[i]))
    return np.array(out)


def test_weighted_quantiles_equal_a_plain_stable_sort_with_ties_and_gaps() -> None:
    rng = np.random.default_rng(7)
    samples = np.round(rng.standard_t(3, size=(3, 8, 41)) * 2) / 2  # many ties
    samples[0, 0] = -samples[0, 0]  # -0.0 next to 0.0
    samples[rng.random(samples.shape) < 0.15] = np.nan
    samples[1, 3, :] = np.nan  # no sample at all
    samples[2, 4, :-1] = np.nan  # a single one
    weights = rng.uniform(0.01, 1.0, size=(8, 41))
    ours = _weighted_quantiles(samples, weights)  # N x h x 5
    for step in range(3):
        for row in range(8):
            np.testing.assert_allclose(
                ours[row, step],
                _weighted_reference(samples[step, row], weights[row]),
                rtol=1e-12,
                atol=1e-12,
            )


def test_sort_order_is_a_stable_argsort_with_nan_last() -> None:
    rng = np.random.default_rng(11)
    samples = np.round(rng.normal(size=(50, 300)) * 3)
    samples[rng.random(samples.shape) < 0.1] = np.nan
    samples[:, 5] = -0.0
    samples[:, 6] = np.inf
    samples[:, 7] = -np.inf
    np.testing.assert_array_equal(
        sort_order(samples), np.argsort(samples, axis=1, kind="stable")
    )


def test_calibration_does_not_depend_on_chunks_or_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(13)
    values = 50 + np.cumsum(rng.normal(0, 1, size=(40, 120)), axis=1)
    values[3, :30] = np.nan  # a younger series
    values[5, 50:60] = np.nan  # a gap
    allow = np.arange(40) % 4 != 0
    whole = calibrate(values, H, allow)
    monkeypatch.setattr(ets_rolling, "ROW_CHUNK", 7)
    for workers in (1, 3):
        parts = calibrate(values, H, allow, workers)
        for field in dataclasses.fields(Calibrated):
            np.testing.assert_array_equal(
                getattr(parts, field.name), getattr(whole, field.name)
            )
