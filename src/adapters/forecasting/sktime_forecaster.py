"""The reference forecasting engine: one sktime model per series, chosen by hold-out."""

import math
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd  # no pandas-stubs here
from sktime.forecasting.ets import AutoETS
from sktime.forecasting.naive import NaiveForecaster
from sktime.split import temporal_train_test_split

from monitoring_core.forecasts import Forecast, ForecastPoint
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import Forecaster
from monitoring_core.series import SeriesHistory

CANDIDATES: dict[str, Callable[[], Any]] = {
    "mean": lambda: NaiveForecaster(strategy="mean"),
    "ses": lambda: AutoETS(error="add", trend=None),
    "holt_damped": lambda: AutoETS(error="add", trend="add", damped_trend=True),
}
"""Model names (the vectorised engine's vocabulary), simplest first."""


class SktimeForecaster(Forecaster):
    """Mean, simple and damped-trend exponential smoothing fitted by sktime.

    The reference for ``VectorizedEtsForecaster``, selected by configuration:
    same model families and selection, but parameters estimated by maximum
    likelihood (statsmodels' ``ETSModel`` behind ``AutoETS``), one series at
    a time (~50-300 ms each). Each candidate is fitted on all but the last
    ``horizon_steps`` steps (sktime's ``temporal_train_test_split``), the one
    with the least mean absolute error on the observed held-out values wins
    (a tie goes to the simpler), and is refitted on the whole series.
    Intervals come from ``predict_interval(coverage=[0.8, 0.95])``.

    Missing values: leading and trailing missing steps are cut; the forecast
    then reaches over the trailing gap. Interior gaps are filled by linear
    interpolation before fitting (sktime's models need complete data); the
    filled values are never used to score the hold-out.

    A constant series is forecast as ``mean`` with zero-width intervals without
    fitting. Left out, as by the vectorised engine: histories with fewer than
    ``2 * horizon_steps + min_extra_points`` observations or none in their last
    ``horizon_steps`` steps, and any whose models all fail or give non-finite
    numbers. The metadata hint is not used.

    Args:
        min_extra_points: observations needed beyond twice the horizon.
    """

    def __init__(self, *, min_extra_points: int = 10):
        self._min_extra_points = min_extra_points

    def forecast(
        self,
        histories: Sequence[SeriesHistory],
        horizon_steps: int,
        made_at: datetime,
        metadata: dict[str, SeriesMetadata],
    ) -> list[Forecast]:
        """Forecast every history that has enough data (see the class docs)."""
        with warnings.catch_warnings():
            # Convergence and deprecation chatter, repeated for every fit.
            warnings.simplefilter("ignore")
            forecasts = [self._one(h, horizon_steps, made_at) for h in histories]
        return [f for f in forecasts if f is not None]

    def _one(
        self, history: SeriesHistory, horizon: int, made_at: datetime
    ) -> Forecast | None:
        raw = pd.Series(history.values, dtype=float)
        seen = raw.notna()
        enough = seen.sum() >= 2 * horizon + self._min_extra_points
        if horizon < 1 or not enough or not seen.iloc[-horizon:].any():
            return None
        first, last = seen.idxmax(), seen[::-1].idxmax()
        y = raw.loc[first:last].interpolate(method="linear")
        gap = len(raw) - 1 - last
        if y.min() == y.max():
            flat = np.full((horizon, 5), float(y.iloc[0]))
            return _forecast(history, made_at, "mean", 0.0, flat)
        train, test = temporal_train_test_split(y, test_size=horizon - gap)
        observed = raw.loc[test.index].notna()
        errors = {
            name: _holdout_mae(name, train, test[observed]) for name in CANDIDATES
        }
        # The sort is stable: a tie keeps the simpler model first.
        for name in sorted(errors, key=lambda n: errors[n]):
            if not math.isfinite(errors[name]):
                break
            table = _predict(name, y, np.arange(gap + 1, gap + horizon + 1))
            if table is not None:
                return _forecast(history, made_at, name, errors[name], table)
        return None


def _fitted(name: str, y: "pd.Series[float]", fh: np.ndarray[Any, Any]) -> Any:
    forecaster = CANDIDATES[name]()
    forecaster.fit(y, fh=fh)
    return forecaster


def _holdout_mae(
    name: str, train: "pd.Series[float]", test: "pd.Series[float]"
) -> float:
    steps = test.index.to_numpy() - train.index[-1]
    try:
        predicted = _fitted(name, train, steps).predict()
        return float(np.mean(np.abs(test.to_numpy() - predicted.to_numpy())))
    except Exception:  # one failing model must not stop the batch
        return math.inf


def _predict(
    name: str, y: "pd.Series[float]", steps: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any] | None:
    """Columns mean, lower_80, upper_80, lower_95, upper_95; None on failure."""
    try:
        forecaster = _fitted(name, y, steps)
        mean = forecaster.predict().to_numpy()
        bounds = forecaster.predict_interval(coverage=[0.8, 0.95]).to_numpy()
    except Exception:  # one failing model must not stop the batch
        return None
    table = np.column_stack([mean, bounds])
    if not np.isfinite(table).all():
        return None
    # Keep the bounds ordered around the mean despite rounding.
    table[:, 1] = np.minimum(table[:, 1], mean)
    table[:, 2] = np.maximum(table[:, 2], mean)
    table[:, 3] = np.minimum(table[:, 3], table[:, 1])
    table[:, 4] = np.maximum(table[:, 4], table[:, 2])
    return table


def _forecast(
    history: SeriesHistory,
    made_at: datetime,
    model: str,
    holdout_mae: float,
    table: np.ndarray[Any, Any],
) -> Forecast:
    step = history.step_seconds
    points = tuple(
        ForecastPoint(
            timestamp=history.end + k * step,
            mean=m,
            lower_80=lo80,
            upper_80=hi80,
            lower_95=lo95,
            upper_95=hi95,
        )
        for k, (m, lo80, hi80, lo95, hi95) in enumerate(table.tolist(), start=1)
    )
    return Forecast(
        series=history.series,
        made_at=made_at,
        step_seconds=step,
        model=model,
        holdout_mae=holdout_mae,
        points=points,
    )
