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


@attrs.frozen(kw_only=True)
class ForecastPoint:
    """One future step: the point forecast and its 80 % and 95 % intervals."""

    timestamp: float
    mean: float
    lower_80: float
    upper_80: float
    lower_95: float
    upper_95: float


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
    """

    series: SeriesKey
    made_at: datetime
    step_seconds: int
    model: str
    holdout_mae: float
    points: tuple[ForecastPoint, ...]
    kind: MetricKind = MetricKind.GAUGE

    @property
    def value_kind(self) -> ValueKind:
        """The value or its per-second rate, derived from ``kind`` and the key."""
        return value_kind_of(self.series, self.kind)

    @property
    def horizon_seconds(self) -> int:
        """How far ahead the last point lies."""
        return len(self.points) * self.step_seconds

    @property
    def predicted_min(self) -> float:
        """Smallest point forecast over the horizon."""
        return min(p.mean for p in self.points)

    @property
    def predicted_max(self) -> float:
        """Largest point forecast over the horizon."""
        return max(p.mean for p in self.points)

    @property
    def predicted_avg(self) -> float:
        """Mean of the point forecasts over the horizon."""
        return math.fsum(p.mean for p in self.points) / len(self.points)


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
