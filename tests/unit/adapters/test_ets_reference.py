"""The vectorised ETS engine against statsmodels' ETSModel with the same parameters."""

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd  # no pandas-stubs here
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from adapters.forecasting.ets import (
    Z_80,
    Z_95,
    VectorizedEtsForecaster,
    damped_holt_filter,
    damped_variance_factors,
    ses_filter,
    ses_variance_factors,
)
from adapters.forecasting.ets_formulas import damped_sums, initial_states
from adapters.forecasting.ets_models import HOLT_GRID, SES_ALPHAS
from monitoring_core.forecasts import Forecast
from monitoring_core.series import SeriesHistory, SeriesKey

H = 10
N = 150
RTOL = 1e-9
STEPS = np.arange(1.0, H + 1)


def batch(seed: int = 0) -> np.ndarray[Any, Any]:
    """Three series as rows: a random walk, an AR(1) and a noisy trend."""
    rng = np.random.default_rng(seed)
    walk = 100 + np.cumsum(rng.normal(size=N))
    ar = np.zeros(N)
    for t in range(1, N):
        ar[t] = 0.6 * ar[t - 1] + rng.normal()
    trend = 5 + 0.3 * np.arange(N) + rng.normal(scale=0.5, size=N)
    return np.stack([walk, 50 + ar, trend])


def smoothed(y: np.ndarray[Any, Any], params: list[float], **spec: Any) -> Any:
    """statsmodels' ETSModel smoothed with fixed parameters and known initial state."""
    model = ETSModel(pd.Series(y), error="add", initialization_method="known", **spec)
    return model.smooth(params)


def assert_forecasts_match(
    result: Any, mean: np.ndarray[Any, Any], variance: np.ndarray[Any, Any]
) -> None:
    """Point forecasts and both interval bounds equal statsmodels' to RTOL."""
    prediction = result.get_prediction(start=N, end=N + H - 1)
    sd = np.sqrt(variance)
    for z, alpha in ((Z_80, 0.2), (Z_95, 0.05)):
        frame = prediction.summary_frame(alpha=alpha)
        np.testing.assert_allclose(mean, frame["mean"], rtol=RTOL)
        np.testing.assert_allclose(mean - z * sd, frame["pi_lower"], rtol=RTOL)
        np.testing.assert_allclose(mean + z * sd, frame["pi_upper"], rtol=RTOL)


@pytest.mark.parametrize("alpha", [0.05, 0.4, 0.9, 0.99])
def test_ses_filter_matches_statsmodels(alpha: float) -> None:
    values = batch()
    level0 = values[:, 0] + np.array([0.5, -1.0, 2.0])
    fitted, level, sse = ses_filter(values, alpha, level0)
    for i, y in enumerate(values):
        result = smoothed(y, [alpha], trend=None, initial_level=level0[i])
        np.testing.assert_allclose(fitted[i], result.fittedvalues, rtol=RTOL)
        assert math.isclose(sse[i], result.sse, rel_tol=RTOL)
        variance = sse[i] / N * ses_variance_factors(np.array(alpha), STEPS)
        assert_forecasts_match(result, np.full(H, level[i]), variance)


@pytest.mark.parametrize(
    ("alpha", "beta", "phi"), [(0.3, 0.05, 0.9), (0.8, 0.2, 0.98), (0.5, 0.5, 0.8)]
)
def test_damped_holt_filter_matches_statsmodels(
    alpha: float, beta: float, phi: float
) -> None:
    values = batch(seed=1)
    level0, trend0 = values[:, 0] - 0.2, np.array([0.1, -0.3, 0.25])
    fitted, level, trend, sse = damped_holt_filter(
        values, alpha, beta, phi, level0, trend0
    )
    for i, y in enumerate(values):
        result = smoothed(
            y,
            [alpha, beta, phi],
            trend="add",
            damped_trend=True,
            initial_level=level0[i],
            initial_trend=trend0[i],
        )
        np.testing.assert_allclose(fitted[i], result.fittedvalues, rtol=RTOL)
        assert math.isclose(sse[i], result.sse, rel_tol=RTOL)
        mean = level[i] + damped_sums(np.array([phi]), H)[0] * trend[i]
        factors = damped_variance_factors(
            np.array(alpha), np.array(beta), np.array(phi), STEPS
        )
        assert_forecasts_match(result, mean, sse[i] / N * factors)


def python_holt(
    y: list[float], alpha: float, beta: float, phi: float, level: float, trend: float
) -> tuple[list[float], float]:
    """Plain-Python damped Holt that skips the update at NaN and before the start."""
    fitted, sse, started = [], 0.0, False
    for value in y:
        started = started or not math.isnan(value)
        forecast = level + phi * trend
        fitted.append(forecast)
        if not started:
            continue
        error = 0.0 if math.isnan(value) else value - forecast
        sse += error * error
        level, trend = forecast + alpha * error, phi * trend + beta * error
    return fitted, sse


def test_missing_steps_are_skipped_and_leading_ones_wait() -> None:
    values = batch(seed=2)
    values[0, [3, 40, 41, 42, 99, N - 1]] = np.nan
    values[1, :25] = np.nan  # starts late: the initial state waits for it
    values[2, N - 4 :] = np.nan  # trailing gap: the state runs on
    level0, trend0 = np.array([100.0, 50.0, 5.0]), np.array([0.0, 0.2, 0.3])
    fitted, _, _, sse = damped_holt_filter(values, 0.6, 0.1, 0.9, level0, trend0)
    for i, y in enumerate(values.tolist()):
        ref_fitted, ref_sse = python_holt(y, 0.6, 0.1, 0.9, level0[i], trend0[i])
        np.testing.assert_allclose(fitted[i], ref_fitted, rtol=RTOL)
        assert math.isclose(sse[i], ref_sse, rel_tol=RTOL)
    assert fitted[1, 0] == fitted[1, 24] == 50.0 + 0.9 * 0.2


def history(values: np.ndarray[Any, Any]) -> SeriesHistory:
    return SeriesHistory(
        series=SeriesKey.of("s"), start=0.0, step_seconds=60, values=tuple(values)
    )


def best_on_grid(y: np.ndarray[Any, Any], model: str) -> Any:
    """statsmodels over the engine's grid: the fit with the least squared error."""
    level, start_level, slope = initial_states(y[None, :])[:, 0]
    if model == "ses":
        fits = [smoothed(y, [a], trend=None, initial_level=level) for a in SES_ALPHAS]
    else:
        fits = [
            smoothed(
                y,
                list(p),
                trend="add",
                damped_trend=True,
                initial_level=start_level,
                initial_trend=slope,
            )
            for p in HOLT_GRID.T
        ]
    return min(fits, key=lambda r: r.sse)


@pytest.mark.parametrize(("row", "model"), [(0, "ses"), (2, "holt_damped")])
def test_engine_forecast_equals_statsmodels_with_the_chosen_parameters(
    row: int, model: str
) -> None:
    y = batch()[row]
    forecast = engine_forecast(y)
    assert forecast.model == model
    prediction = best_on_grid(y, model).get_prediction(start=N, end=N + H - 1)
    for level, alpha in (("80", 0.2), ("95", 0.05)):
        frame = prediction.summary_frame(alpha=alpha)
        points = forecast.points
        np.testing.assert_allclose([p.mean for p in points], frame["mean"], rtol=RTOL)
        lower = [getattr(p, f"lower_{level}") for p in points]
        upper = [getattr(p, f"upper_{level}") for p in points]
        np.testing.assert_allclose(lower, frame["pi_lower"], rtol=RTOL)
        np.testing.assert_allclose(upper, frame["pi_upper"], rtol=RTOL)
    train = best_on_grid(y[:-H], model).get_prediction(start=N - H, end=N - 1)
    held_out = np.mean(np.abs(y[-H:] - train.predicted_mean.to_numpy()))
    assert math.isclose(forecast.holdout_mae, held_out, rel_tol=RTOL)


def test_engine_mean_model_is_the_sample_mean_with_its_prediction_interval() -> None:
    y = batch()[1]
    forecast = engine_forecast(y)
    assert forecast.model == "mean"
    sd = np.std(y, ddof=1) * math.sqrt(1 + 1 / N)
    for p in forecast.points:
        assert math.isclose(p.mean, np.mean(y), rel_tol=RTOL)
        assert math.isclose(p.upper_80 - p.mean, Z_80 * sd, rel_tol=RTOL)
        assert math.isclose(p.mean - p.lower_95, Z_95 * sd, rel_tol=RTOL)
    held_out = np.mean(np.abs(y[-H:] - np.mean(y[:-H])))
    assert math.isclose(forecast.holdout_mae, held_out, rel_tol=RTOL)


def engine_forecast(y: np.ndarray[Any, Any]) -> Forecast:
    [forecast] = VectorizedEtsForecaster(rolling_calibration=False).forecast(
        [history(y)], H, datetime(2024, 1, 1, tzinfo=UTC), {}
    )
    return forecast
