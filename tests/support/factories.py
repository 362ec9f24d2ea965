"""Small builders of domain objects for tests."""

import math
from datetime import UTC, datetime

import attrs

from monitoring_core.forecasts import Band, Forecast, ForecastPoint, ForecastScore
from monitoring_core.metadata import (
    Seasonality,
    SeriesMetadata,
    Stationarity,
    StationarityTest,
)
from monitoring_core.ports import Result
from monitoring_core.runs import EtlRun, Step, StepTiming
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = SeriesKey.of("node_load1", {"instance": "db-1:9100", "job": "node"})


def window_stats(kind: MetricKind = MetricKind.GAUGE) -> SeriesWindowStats:
    full = WindowStats(
        window_seconds=3600,
        count=240,
        min=0.5,
        max=float("inf"),
        avg=1.25,
        stddev=0.1,
        last=float("nan"),
        last_timestamp=NOW.timestamp() - 3,
    )
    empty = WindowStats(
        window_seconds=43200,
        count=0,
        min=None,
        max=None,
        avg=None,
        stddev=None,
        last=None,
    )
    return SeriesWindowStats(series=KEY, kind=kind, at=NOW, windows=(full, empty))


def forecast(kind: MetricKind = MetricKind.GAUGE) -> Forecast:
    points = tuple(
        ForecastPoint(
            timestamp=NOW.timestamp() + 60 * i,
            mean=float(i),
            lower_80=i - 1.0,
            upper_80=i + 1.0,
            lower_95=i - 2.0,
            upper_95=i + 2.0,
        )
        for i in range(1, 11)
    )
    return Forecast(
        series=KEY,
        made_at=NOW,
        step_seconds=60,
        model="ses",
        holdout_mae=0.3,
        points=points,
        kind=kind,
    )


def band(median: float, half_80: float, half_95: float) -> Band:
    """The five quantiles of a distribution centred on ``median``."""
    return Band(
        lower_95=median - half_95,
        lower_80=median - half_80,
        median=median,
        upper_80=median + half_80,
        upper_95=median + half_95,
    )


def forecast_with_distributions(kind: MetricKind = MetricKind.GAUGE) -> Forecast:
    """``forecast()`` with the distributions of the running max and min at every
    point and of the horizon's mean (the last point's max is NaN-free, the
    first point's min reaches -Inf, so special numbers are carried too)."""
    plain = forecast(kind)
    points = tuple(
        attrs.evolve(
            p,
            running_max=band(p.mean + 0.5 * i, 1.0 + 0.25 * i, 2.0 + 0.5 * i),
            running_min=band(1.0 - 0.125 * i, 0.75, 1.5),
        )
        for i, p in enumerate(plain.points)
    )
    first = points[0]
    assert first.running_min is not None
    lowest = attrs.evolve(first.running_min, lower_95=-math.inf)
    points = (attrs.evolve(first, running_min=lowest), *points[1:])
    return attrs.evolve(plain, points=points, average=band(5.5, 0.75, 1.25))


def metadata() -> SeriesMetadata:
    return SeriesMetadata(
        series=KEY,
        computed_at=NOW,
        lookback_seconds=86400,
        step_seconds=300,
        sample_count=288,
        stationarity=Stationarity.TREND_STATIONARY,
        adf=StationarityTest(statistic=-1.2, p_value=0.6, stationary=False),
        kpss=StationarityTest(statistic=0.1, p_value=0.1, stationary=True),
        acf=(1.0, 0.5, 0.25),
        acf_significant_lags=(1,),
        seasonality=Seasonality(period_seconds=3600, strength=0.8),
    )


def insufficient_metadata() -> SeriesMetadata:
    return SeriesMetadata(
        series=KEY,
        computed_at=NOW,
        lookback_seconds=86400,
        step_seconds=300,
        sample_count=0,
        stationarity=Stationarity.INSUFFICIENT_DATA,
        reason="no samples",
    )


def score() -> ForecastScore:
    return ForecastScore(
        series=KEY,
        forecast_made_at=NOW,
        scored_at=NOW,
        model="ses",
        points_compared=10,
        mae=0.5,
        coverage_80=0.8,
        coverage_95=1.0,
    )


def etl_run() -> EtlRun:
    return EtlRun(
        run_id="abc",
        started_at=NOW,
        finished_at=NOW,
        ok=False,
        steps=(
            StepTiming(step=Step.DISCOVERY, seconds=0.5),
            StepTiming(step=Step.PUBLISH, seconds=0.1, error="down"),
        ),
        series_count=3,
        results_published=0,
    )


def sharded_etl_run() -> EtlRun:
    """The record of a sharded worker's analysis cycle (ADR 0055, 0058), every
    count known."""
    return attrs.evolve(
        etl_run(),
        run_id="abd",
        steps=(
            StepTiming(step=Step.DISCOVERY, seconds=0.5),
            StepTiming(step=Step.WINDOW_STATS, seconds=1.25),
            StepTiming(step=Step.PUBLISH, seconds=0.1, error="down"),
        ),
        results_delivered=0,
        results_buffered=0,
        worker="etl-host-1a2b3c4d",
        shards=(0, 1, 2, 3, 7, 9, 10),
    )


def every_result() -> list[Result]:
    """One of each kind of result, every series kind, a forecast with and
    without distributions, and insufficient metadata."""
    return [
        window_stats(),
        window_stats(MetricKind.COUNTER),
        window_stats(MetricKind.HISTOGRAM),
        window_stats(MetricKind.SUMMARY),
        forecast(),
        forecast(MetricKind.COUNTER),
        forecast_with_distributions(),
        metadata(),
        insufficient_metadata(),
        score(),
        etl_run(),
        sharded_etl_run(),
    ]
