"""Named mappers from rows back to results and series records."""

import json
from collections.abc import Iterable
from typing import Any

from adapters.sql.packed import unpack
from adapters.sql.values import (
    from_ms,
    joined_floats,
    ms_to_unix,
    required,
    text_shards,
    unspell,
)
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import (
    Seasonality,
    SeriesMetadata,
    Stationarity,
    StationarityTest,
)
from monitoring_core.runs import EtlRun, Step, StepTiming
from monitoring_core.series import MetricKind, SeriesKey, SeriesRecord
from monitoring_core.windows import SeriesWindowStats, WindowStats

Row = Any  # a sqlalchemy Row; its columns are attributes

_WINDOW_FLOATS = ("min", "max", "avg", "stddev", "last")
_METADATA_FLOATS = (
    *(f"{t}_{f}" for t in ("adf", "kpss") for f in ("statistic", "p_value")),
    "seasonality_strength",
)


def key_of(name: str, labels: str) -> SeriesKey:
    """The series key of a name and its labels as JSON text."""
    return SeriesKey.of(name, json.loads(labels))


def row_to_key(row: Row) -> SeriesKey:
    """The series key of a ``series`` row."""
    return key_of(row.name, row.labels)


def row_to_series(row: Row) -> SeriesRecord:
    """A ``series`` row."""
    return SeriesRecord(
        key=row_to_key(row),
        kind=MetricKind(row.kind),
        first_seen=from_ms(row.first_seen),
        last_seen=from_ms(row.last_seen),
    )


def _row_to_window(row: Row) -> WindowStats:
    return WindowStats(
        window_seconds=row.window_seconds,
        count=row.count,
        last_timestamp=ms_to_unix(row.last_timestamp),
        **joined_floats(row, _WINDOW_FLOATS),
    )


def rows_to_window_stats(key: SeriesKey, rows: Iterable[Row]) -> SeriesWindowStats:
    """The ``window_stats`` rows of one evaluation time, shortest window first."""
    ordered = sorted(rows, key=lambda r: r.window_seconds)
    return SeriesWindowStats(
        series=key,
        kind=MetricKind(ordered[0].kind),
        at=from_ms(ordered[0].at),
        windows=tuple(_row_to_window(r) for r in ordered),
    )


def _test(
    floats: dict[str, float | None], prefix: str, row: Row
) -> StationarityTest | None:
    stationary = getattr(row, f"{prefix}_stationary")
    if stationary is None:
        return None
    return StationarityTest(
        statistic=required(floats[f"{prefix}_statistic"]),
        p_value=required(floats[f"{prefix}_p_value"]),
        stationary=bool(stationary),
    )


def row_to_metadata(key: SeriesKey, row: Row) -> SeriesMetadata:
    """A ``metadata`` row."""
    floats = joined_floats(row, _METADATA_FLOATS)
    return SeriesMetadata(
        series=key,
        computed_at=from_ms(row.computed_at),
        lookback_seconds=row.lookback_seconds,
        step_seconds=row.step_seconds,
        sample_count=row.sample_count,
        stationarity=Stationarity(row.stationarity),
        reason=row.reason,
        adf=_test(floats, "adf", row),
        kpss=_test(floats, "kpss", row),
        acf=tuple(required(unspell(v)) for v in json.loads(row.acf)),
        acf_significant_lags=tuple(json.loads(row.acf_significant_lags)),
        seasonality=Seasonality(
            period_seconds=row.seasonality_period_seconds,
            strength=floats["seasonality_strength"],
        ),
    )


def row_to_forecast(key: SeriesKey, row: Row) -> Forecast:
    """A ``forecasts`` row joined to its series, whose kind it takes.

    Its predicted min/max/avg follow from the points; its points'
    distributions and its average are packed with them (``None`` in rows
    written before they existed).
    """
    packed = unpack(row.points, row.step_seconds)
    return Forecast(
        series=key,
        made_at=from_ms(row.made_at),
        step_seconds=row.step_seconds,
        model=row.model,
        holdout_mae=required(joined_floats(row, ["holdout_mae"])["holdout_mae"]),
        points=packed.points,
        kind=MetricKind(row.series_kind),
        average=packed.average,
    )


def row_to_score(key: SeriesKey, row: Row) -> ForecastScore:
    """A ``forecast_scores`` row."""
    floats = joined_floats(row, ("mae", "coverage_80", "coverage_95"))
    return ForecastScore(
        series=key,
        forecast_made_at=from_ms(row.forecast_made_at),
        scored_at=from_ms(row.scored_at),
        model=row.model,
        points_compared=row.points_compared,
        mae=required(floats["mae"]),
        coverage_80=required(floats["coverage_80"]),
        coverage_95=required(floats["coverage_95"]),
    )


def _step(values: dict[str, Any]) -> StepTiming:
    return StepTiming(
        step=Step(values["step"]),
        seconds=required(unspell(values["seconds"])),
        error=values["error"],
    )


def row_to_run(row: Row) -> EtlRun:
    """An ``etl_runs`` row."""
    return EtlRun(
        run_id=row.run_id,
        started_at=from_ms(row.started_at),
        finished_at=from_ms(row.finished_at),
        ok=bool(row.ok),
        steps=tuple(_step(s) for s in json.loads(row.steps)),
        series_count=row.series_count,
        results_published=row.results_published,
        results_delivered=row.results_delivered,
        results_buffered=row.results_buffered,
        aborted=row.aborted,
        worker=row.worker,
        shards=text_shards(row.shards),
    )
