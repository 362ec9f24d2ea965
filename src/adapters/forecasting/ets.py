"""The default forecasting engine: exponential smoothing vectorised across series."""

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

from adapters.forecasting.ets_filters import FloatArray
from adapters.forecasting.ets_formulas import (
    damped_holt_filter,
    damped_variance_factors,
    ses_filter,
    ses_variance_factors,
)
from adapters.forecasting.ets_models import MODELS, Selection, select
from adapters.forecasting.ets_rolling import MEDIAN, MIN_ORIGINS, Calibrated, calibrate
from adapters.forecasting.seasonal import profiles
from monitoring_core.forecasts import Band, Forecast, ForecastPoint
from monitoring_core.metadata import SeasonalHistory, SeriesMetadata, Stationarity
from monitoring_core.ports import Forecaster
from monitoring_core.series import SeriesHistory

__all__ = [
    "MIN_HOLDOUT",
    "VectorizedEtsForecaster",
    "damped_holt_filter",
    "damped_variance_factors",
    "ses_filter",
    "ses_variance_factors",
]

Z_80 = NormalDist().inv_cdf(0.90)
Z_95 = NormalDist().inv_cdf(0.975)

MIN_HOLDOUT = 5
"""The shortest hold-out, in steps, used to choose the model of a short history."""

MAX_WORKERS = 4
"""Most threads calibrating at once by default (the steps are memory-bound)."""


class VectorizedEtsForecaster(Forecaster):
    """Mean, simple and damped-trend exponential smoothing for many series at once.

    A history with at least ``2 * horizon_steps + min_extra_points`` values,
    its last step observed, is forecast with *rolling-origin calibration*
    (``ets_rolling``, ADR 0040): each family, and the equal-weight
    combinations ``mean_ses`` and ``mean_ses_holt``, forecasts the horizon from
    every second past step; the one with the least mean absolute error over
    all those origins and steps is chosen; the point forecast is its path plus
    the median of its past errors at that step, the intervals its path plus
    their 2.5/10/90/97.5 % quantiles, and every point carries the
    distributions of the running max and min (the window max and min) and the
    forecast the distribution of the horizon's mean. ``holdout_mae`` is then
    the rolling mean absolute error.

    Other histories (short ones, a trailing gap, or too few usable origins),
    and every history with ``rolling_calibration=False``, are forecast as
    follows, with Gaussian intervals and no distributions of the extremes.

    All histories are fitted together as one N x T array: each time step is a
    handful of numpy operations over every series and every grid parameter, so
    10,000 series of 360 steps take about a second (see docs/forecasting.md).

    Per series, each family (``mean``, ``ses``, ``holt_damped``) is fitted on
    all but the last k steps (the hold-out), the family with the smallest
    mean absolute error on those held-out steps is chosen, then refitted on
    the whole series to forecast ``horizon_steps`` steps. Intervals are
    Gaussian with the analytic h-step variance of the chosen model.

    The hold-out k depends on the number n of observed values:

    - n >= ``2 * horizon_steps + min_extra_points``: k = ``horizon_steps``.
    - ``min_short_points`` <= n below that (a short history, e.g. a new
      Prometheus): k = ``max(MIN_HOLDOUT, n // 4)``, at most ``horizon_steps``,
      so the fit keeps about three quarters of the data. So short a hold-out
      cannot test the choice at the far steps: the intervals take, per step,
      the widest variance of the candidate families (see ``select``). They
      are wide but honest (coverage in docs/forecasting.md).

    Rows with the same k are fitted in one vectorised call.

    Left out of the result: histories with fewer than ``min_short_points``
    observed values (and fewer than the long-history count), with no
    observation in their last k steps (nothing to validate against, the series
    has likely gone), and any whose forecast would not be finite (e.g. values
    so large that squared errors overflow).

    Missing steps (NaN) skip the update; the state is carried forward.

    Args:
        min_extra_points: observations needed beyond twice the horizon for
            the full hold-out.
        min_short_points: fewest observations forecast at all, with a shorter
            hold-out; at least ``4 * MIN_HOLDOUT``.
        use_metadata: when the series' metadata says ``stationary`` (ADF and
            KPSS agree), do not choose ``holt_damped`` (nor ``mean_ses_holt``):
            a trend found in the last few steps of a stationary series is noise.
        rolling_calibration: calibrate long histories on their rolling
            errors (above); False: the hold-out choice and Gaussian intervals
            for every history.
        workers: threads that calibrate chunks of series at once (numpy
            releases the GIL in the heavy steps); the results do not depend
            on it. Default: the machine's CPUs, at most ``MAX_WORKERS``.
    """

    def __init__(
        self,
        *,
        min_extra_points: int = 10,
        min_short_points: int = 4 * MIN_HOLDOUT,
        use_metadata: bool = True,
        rolling_calibration: bool = True,
        workers: int | None = None,
    ):
        if min_short_points < 4 * MIN_HOLDOUT:
            raise ValueError(f"min_short_points must be at least {4 * MIN_HOLDOUT}")
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self._workers = workers or min(MAX_WORKERS, os.cpu_count() or 1)
        self._min_extra_points = min_extra_points
        self._min_short_points = min_short_points
        self._use_metadata = use_metadata
        self._rolling_calibration = rolling_calibration

    def forecast(
        self,
        histories: Sequence[SeriesHistory],
        horizon_steps: int,
        made_at: datetime,
        metadata: dict[str, SeriesMetadata],
        seasonal: Mapping[str, SeasonalHistory] | None = None,
    ) -> list[Forecast]:
        """Forecast every history that has enough data (see the class docs).

        ``seasonal``: by series id, a longer, coarser history and its period
        (ADR 0050); a calibrated history with one also tries ``seasonal_ses``.
        """
        if not histories or horizon_steps < 1:
            return []
        values = _right_aligned(histories)
        observed = ~np.isnan(values)
        holdout = self._holdouts(observed.sum(axis=1), horizon_steps)
        recent = np.zeros(len(histories), dtype=bool)
        for k in np.unique(holdout[holdout > 0]).tolist():
            recent |= (holdout == k) & observed[:, -k:].any(axis=1)
        rows = np.flatnonzero(recent)
        if rows.size == 0:
            return []
        chosen = [histories[i] for i in rows.tolist()]
        allow_trend = self._allows_trend(chosen, metadata)
        values = values[rows]
        long = holdout[rows] == horizon_steps
        if not self._rolling_calibration:
            long[:] = False
        long_rows = np.flatnonzero(long)
        with np.errstate(all="ignore"):
            profile = profiles(
                [chosen[i] for i in long_rows.tolist()],
                values.shape[1],
                horizon_steps,
                seasonal or {},
            )
            calibrated = calibrate(
                values[long], horizon_steps, allow_trend[long], self._workers, profile
            )
        good = np.zeros(len(rows), dtype=bool)
        good[long] = (
            (calibrated.origins >= MIN_ORIGINS)
            & ~np.isnan(values[long, -1])
            & np.isfinite(calibrated.value).all(axis=(1, 2))
            & np.isfinite(calibrated.running_max).all(axis=(1, 2))
            & np.isfinite(calibrated.running_min).all(axis=(1, 2))
            & np.isfinite(calibrated.average).all(axis=1)
            & np.isfinite(calibrated.rolling_mae)
        )
        position = np.cumsum(long) - 1  # row -> its row in ``calibrated``
        good_rows = np.flatnonzero(good)
        made: dict[int, Forecast] = dict(
            zip(
                good_rows.tolist(),
                _calibrated_forecasts(
                    [chosen[i] for i in good_rows.tolist()],
                    calibrated,
                    position[good_rows],
                    made_at,
                ),
                strict=True,
            )
        )
        rest = np.flatnonzero(~good)
        if rest.size:
            with np.errstate(all="ignore"):
                selection = _select_by_holdout(
                    values[rest],
                    horizon_steps,
                    allow_trend[rest],
                    holdout[rows][rest],
                )
            fallback = _forecasts(
                [chosen[i] for i in rest.tolist()], selection, made_at
            )
            made.update(
                zip(
                    rest[[k for k, _ in fallback]].tolist(),
                    (f for _, f in fallback),
                    strict=True,
                )
            )
        return [made[i] for i in sorted(made)]

    def _holdouts(self, observed: NDArray[np.intp], horizon: int) -> NDArray[np.intp]:
        """Hold-out length per row from its observation count; 0: not forecast."""
        long = observed >= 2 * horizon + self._min_extra_points
        short = np.minimum(np.maximum(MIN_HOLDOUT, observed // 4), horizon)
        short[observed < self._min_short_points] = 0
        return np.where(long, horizon, short)

    def _allows_trend(
        self, histories: list[SeriesHistory], metadata: dict[str, SeriesMetadata]
    ) -> NDArray[np.bool_]:
        if not (self._use_metadata and metadata):  # skip hashing 10,000 ids
            return np.ones(len(histories), dtype=bool)
        hints = [metadata.get(h.series.id) for h in histories]
        return np.array(
            [h is None or h.stationarity is not Stationarity.STATIONARY for h in hints]
        )


def _select_by_holdout(
    values: FloatArray,
    horizon: int,
    allow_trend: NDArray[np.bool_],
    holdout: NDArray[np.intp],
) -> Selection:
    """``select`` for each group of rows sharing a hold-out length, reassembled.

    Groups with a short hold-out (short histories) drop the leading columns
    where none of their rows has begun, so a few new series in a batch of long
    ones do not run over the long ones' whole span. Long rows are passed as
    they are: their numbers stay bit-identical to a batch of long rows only.
    """
    lengths = np.unique(holdout).tolist()
    if len(lengths) == 1:
        return _select_group(values, horizon, allow_trend, lengths[0])
    n = values.shape[0]
    model = np.zeros(n, dtype=np.intp)
    mae = np.empty(n)
    mean, variance = np.empty((n, horizon)), np.empty((n, horizon))
    for k in lengths:
        rows = np.flatnonzero(holdout == k)
        part = _select_group(values[rows], horizon, allow_trend[rows], k)
        model[rows], mae[rows] = part.model, part.holdout_mae
        mean[rows], variance[rows] = part.mean, part.variance
    return Selection(model=model, holdout_mae=mae, mean=mean, variance=variance)


def _select_group(
    values: FloatArray, horizon: int, allow_trend: NDArray[np.bool_], holdout: int
) -> Selection:
    """``select`` for rows sharing one hold-out; short ones skip unused columns."""
    if holdout < horizon:
        values = values[:, int((~np.isnan(values)).any(axis=0).argmax()) :]
    return select(values, horizon, allow_trend, holdout)


def _right_aligned(histories: Sequence[SeriesHistory]) -> FloatArray:
    """N x T values with every row ending at the last column, NaN-padded in front."""
    lengths = {len(h.values) for h in histories}
    if len(lengths) == 1:
        return np.array([h.values for h in histories], dtype=np.float64)
    out = np.full((len(histories), max(lengths)), np.nan)
    for row, history in zip(out, histories, strict=True):
        if history.values:
            row[-len(history.values) :] = history.values
    return out


def _band(q: list[float]) -> Band:
    return Band(lower_95=q[0], lower_80=q[1], median=q[2], upper_80=q[3], upper_95=q[4])


def _calibrated_forecasts(
    histories: list[SeriesHistory],
    calibrated: Calibrated,
    rows: NDArray[np.intp],
    made_at: datetime,
) -> list[Forecast]:
    """Rows of a calibration as forecasts; each point is its median.

    The arrays become Python floats in one ``tolist`` per array, not one
    conversion per number: building the objects is most of the cost here.
    """
    values = calibrated.value[rows].tolist()
    highs = calibrated.running_max[rows].tolist()
    lows = calibrated.running_min[rows].tolist()
    averages = calibrated.average[rows].tolist()
    models = calibrated.model[rows].tolist()
    maes = calibrated.rolling_mae[rows].tolist()
    made = []
    for k, history in enumerate(histories):
        step, end = history.step_seconds, history.end
        points = tuple(
            ForecastPoint(
                timestamp=end + ahead * step,
                mean=q[MEDIAN],
                lower_80=q[1],
                upper_80=q[3],
                lower_95=q[0],
                upper_95=q[4],
                running_max=_band(high),
                running_min=_band(low),
            )
            for ahead, (q, high, low) in enumerate(
                zip(values[k], highs[k], lows[k], strict=True), start=1
            )
        )
        made.append(
            Forecast(
                series=history.series,
                made_at=made_at,
                step_seconds=step,
                model=MODELS[models[k]],
                holdout_mae=maes[k],
                points=points,
                average=_band(averages[k]),
            )
        )
    return made


def _forecasts(
    histories: list[SeriesHistory], selection: Selection, made_at: datetime
) -> list[tuple[int, Forecast]]:
    """Forecasts with Gaussian intervals, by row index (non-finite rows left out)."""
    mean, sd = selection.mean, np.sqrt(selection.variance)
    bounds = np.stack(
        [mean - Z_80 * sd, mean + Z_80 * sd, mean - Z_95 * sd, mean + Z_95 * sd]
    )
    finite = (
        np.isfinite(bounds).all(axis=(0, 2))
        & np.isfinite(mean).all(axis=1)
        & np.isfinite(selection.holdout_mae)
    )
    result = []
    for i in np.flatnonzero(finite):
        history = histories[i]
        step, end = history.step_seconds, history.end
        points = tuple(
            ForecastPoint(
                timestamp=end + k * step,
                mean=m,
                lower_80=lo80,
                upper_80=hi80,
                lower_95=lo95,
                upper_95=hi95,
            )
            for k, (m, lo80, hi80, lo95, hi95) in enumerate(
                zip(mean[i].tolist(), *bounds[:, i].tolist(), strict=True), start=1
            )
        )
        result.append(
            (
                int(i),
                Forecast(
                    series=history.series,
                    made_at=made_at,
                    step_seconds=step,
                    model=MODELS[selection.model[i]],
                    holdout_mae=float(selection.holdout_mae[i]),
                    points=points,
                ),
            )
        )
    return result
