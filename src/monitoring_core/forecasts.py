"""Forecasts with prediction intervals, and their scoring against what happened."""

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from monitoring_core.series import (
    MetricKind,
    SeriesHistory,
    SeriesInfo,
    SeriesKey,
    ValueKind,
    value_kind_of,
)

BAND_LEVELS = (0.025, 0.1, 0.5, 0.9, 0.975)
"""The probability levels of a :class:`Band`'s five quantiles, in field order."""


@attrs.frozen(kw_only=True)
class Band:
    """Five quantiles of one predictive distribution (levels ``BAND_LEVELS``).

    Attributes:
        lower_95, lower_80, median, upper_80, upper_95: the 2.5 %, 10 %, 50 %,
            90 % and 97.5 % quantiles, in non-decreasing order.
    """

    lower_95: float
    lower_80: float
    median: float
    upper_80: float
    upper_95: float

    def quantiles(self) -> tuple[float, float, float, float, float]:
        """The five quantiles, lowest level first."""
        return (self.lower_95, self.lower_80, self.median, self.upper_80, self.upper_95)

    def clamped(self, lower: float) -> "Band":
        """The band of ``max(lower, X)``: every quantile raised to ``lower``."""
        return Band(
            lower_95=max(lower, self.lower_95),
            lower_80=max(lower, self.lower_80),
            median=max(lower, self.median),
            upper_80=max(lower, self.upper_80),
            upper_95=max(lower, self.upper_95),
        )


@attrs.frozen(kw_only=True)
class ForecastPoint:
    """One future step: the point forecast and its 80 % and 95 % intervals.

    Attributes:
        timestamp: Unix time of the step.
        mean: the point forecast.
        lower_80, upper_80, lower_95, upper_95: the central 80 % and 95 %
            prediction intervals of the value at this step.
        running_max, running_min: the predictive distributions of the largest
            and smallest value from the first step up to this one (the last
            point's are those of the window max and min). None from a
            forecaster that does not give them (and in forecasts stored before
            they existed).
    """

    timestamp: float
    mean: float
    lower_80: float
    upper_80: float
    lower_95: float
    upper_95: float
    running_max: Band | None = None
    running_min: Band | None = None


@attrs.frozen(kw_only=True)
class Forecast:
    """A forecast of one series over the horizon, one point per step.

    The ETL cycle publishes forecasts of non-negative series with nothing below
    0 (``monitoring_core.value_domains``, ADR 0017).

    Attributes:
        series: which series.
        made_at: when the forecast was made (the last observed step).
        step_seconds: spacing of the points.
        model: name of the chosen model, e.g. ``ses`` or ``holt_damped``.
        holdout_mae: mean absolute error of that model on the held-out tail.
        points: the future steps, oldest first.
        kind: the series' metric type; ``value_kind`` says whether the points
            are of its value or of its per-second rate. Forecasters leave the
            default, the ETL cycle sets it (``with_kinds``).
        average: the predictive distribution of the mean value over the
            horizon; None when the forecaster does not give it.
    """

    series: SeriesKey
    made_at: datetime
    step_seconds: int
    model: str
    holdout_mae: float
    points: tuple[ForecastPoint, ...]
    kind: MetricKind = MetricKind.GAUGE
    average: Band | None = None

    @property
    def value_kind(self) -> ValueKind:
        """The value or its per-second rate, derived from ``kind`` and the key."""
        return value_kind_of(self.series, self.kind)

    @property
    def horizon_seconds(self) -> int:
        """How far ahead the last point lies."""
        return len(self.points) * self.step_seconds

    @property
    def window_min(self) -> Band | None:
        """Distribution of the smallest value over the horizon, when known."""
        return self.points[-1].running_min if self.points else None

    @property
    def window_max(self) -> Band | None:
        """Distribution of the largest value over the horizon, when known."""
        return self.points[-1].running_max if self.points else None

    @property
    def predicted_min(self) -> float:
        """Smallest value over the horizon: the median of its distribution.

        From a forecaster without distributions: the smallest point forecast.
        Never above ``predicted_avg`` (a window's minimum is at most its mean;
        a flat forecast's median and mean may differ in the last bit).
        """
        band = self.window_min
        if band is None:
            return min(p.mean for p in self.points)
        return min(band.median, self.predicted_avg)

    @property
    def predicted_max(self) -> float:
        """Largest value over the horizon: the median of its distribution.

        From a forecaster without distributions: the largest point forecast,
        which understates it (the point path is smoother than the values).
        Never below ``predicted_avg``.
        """
        band = self.window_max
        if band is None:
            return max(p.mean for p in self.points)
        return max(band.median, self.predicted_avg)

    @property
    def predicted_avg(self) -> float:
        """Mean value over the horizon: the mean of the point forecasts (kept
        between the smallest and largest of them, which rounding can leave)."""
        means = [p.mean for p in self.points]
        return min(max(math.fsum(means) / len(means), min(means)), max(means))


def with_kinds(
    forecasts: Iterable[Forecast], series: Sequence[SeriesInfo]
) -> list[Forecast]:
    """Each forecast with the kind of its series (unchanged when not listed)."""
    kinds = {info.key: info.kind for info in series}
    return [
        attrs.evolve(f, kind=kinds[f.series]) if f.series in kinds else f
        for f in forecasts
    ]


@attrs.frozen(kw_only=True)
class ForecastScore:
    """How a past forecast fared against the values that then arrived.

    Attributes:
        series: which series.
        forecast_made_at: the forecast being scored.
        scored_at: when it was scored.
        model: the model that made the forecast.
        points_compared: future steps that had an observed value.
        mae: mean absolute error of the point forecasts.
        coverage_80, coverage_95: share of observed values inside each interval.
    """

    series: SeriesKey
    forecast_made_at: datetime
    scored_at: datetime
    model: str
    points_compared: int
    mae: float
    coverage_80: float
    coverage_95: float


def score_forecast(
    forecast: Forecast, actual: SeriesHistory, scored_at: datetime
) -> ForecastScore | None:
    """Compare a forecast with observed values at the same timestamps.

    Returns None when no forecast step has an observed value.
    """
    observed = {
        round(t): v
        for t, v in zip(actual.timestamps(), actual.values, strict=True)
        if not math.isnan(v)
    }
    pairs = [
        (p, observed[round(p.timestamp)])
        for p in forecast.points
        if round(p.timestamp) in observed
    ]
    if not pairs:
        return None
    n = len(pairs)
    return ForecastScore(
        series=forecast.series,
        forecast_made_at=forecast.made_at,
        scored_at=scored_at,
        model=forecast.model,
        points_compared=n,
        mae=math.fsum(abs(p.mean - v) for p, v in pairs) / n,
        coverage_80=sum(p.lower_80 <= v <= p.upper_80 for p, v in pairs) / n,
        coverage_95=sum(p.lower_95 <= v <= p.upper_95 for p, v in pairs) / n,
    )
