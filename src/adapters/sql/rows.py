"""Named mappers from results to rows (dicts of column values)."""

import functools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from adapters.sql.values import spell, spelled_list, split_floats, to_json, to_ms
from adapters.sql.values import unix_to_ms as _unix_ms
from monitoring_core.forecasts import Forecast, ForecastPoint, ForecastScore
from monitoring_core.metadata import SeriesMetadata, StationarityTest
from monitoring_core.runs import EtlRun, StepTiming
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats

Row = dict[str, Any]


@functools.lru_cache(maxsize=1 << 16)
def _identity(key: SeriesKey) -> tuple[str, str]:
    """Id (a SHA-256) and labels as JSON, remembered: series recur every batch."""
    return key.id, to_json(key.label_map)


def series_id(key: SeriesKey) -> str:
    """``key.id``."""
    return _identity(key)[0]


def series_row(key: SeriesKey, kind: MetricKind | None, seen: datetime) -> Row:
    """A series seen at ``seen``; ``kind`` None when the result does not say."""
    seen_ms = to_ms(seen)
    identity, labels = _identity(key)
    return {
        "id": identity,
        "name": key.name,
        "labels": labels,
        "kind": None if kind is None else kind.value,
        "first_seen": seen_ms,
        "last_seen": seen_ms,
    }


def window_stats_rows(result: SeriesWindowStats) -> Iterator[Row]:
    """One row per window."""
    key, at, kind = series_id(result.series), to_ms(result.at), result.kind.value
    for w in result.windows:
        floats = {"min": w.min, "max": w.max, "avg": w.avg, "stddev": w.stddev}
        floats["last"] = w.last
        row = split_floats(floats)
        row["series_id"], row["at"], row["window_seconds"] = key, at, w.window_seconds
        row["kind"], row["count"] = kind, w.count
        row["last_timestamp"] = _unix_ms(w.last_timestamp)
        yield row


def _test(prefix: str, test: StationarityTest | None) -> dict[str, Any]:
    return {
        f"{prefix}_statistic": None if test is None else test.statistic,
        f"{prefix}_p_value": None if test is None else test.p_value,
    }


def metadata_row(result: SeriesMetadata) -> Row:
    """The analysis of one series at ``computed_at``."""
    adf, kpss, season = result.adf, result.kpss, result.seasonality
    floats = {**_test("adf", adf), **_test("kpss", kpss)}
    return {
        "series_id": series_id(result.series),
        "computed_at": to_ms(result.computed_at),
        "lookback_seconds": result.lookback_seconds,
        "step_seconds": result.step_seconds,
        "sample_count": result.sample_count,
        "stationarity": result.stationarity.value,
        "reason": result.reason,
        "adf_stationary": None if adf is None else adf.stationary,
        "kpss_stationary": None if kpss is None else kpss.stationary,
        "acf": to_json(spelled_list(result.acf)),
        "acf_significant_lags": to_json(list(result.acf_significant_lags)),
        "seasonality_period_seconds": season.period_seconds,
        **split_floats({**floats, "seasonality_strength": season.strength}),
    }


def _point(point: ForecastPoint) -> dict[str, float | str | None]:
    return {
        "timestamp": spell(point.timestamp),
        "mean": spell(point.mean),
        "lower_80": spell(point.lower_80),
        "upper_80": spell(point.upper_80),
        "lower_95": spell(point.lower_95),
        "upper_95": spell(point.upper_95),
    }


def forecast_row(result: Forecast) -> Row:
    """A forecast with its points as JSON text."""
    some = bool(result.points)
    return {
        "series_id": series_id(result.series),
        "made_at": to_ms(result.made_at),
        "step_seconds": result.step_seconds,
        "model": result.model,
        "points": to_json([_point(p) for p in result.points]),
        **split_floats(
            {
                "holdout_mae": result.holdout_mae,
                "predicted_min": result.predicted_min if some else None,
                "predicted_max": result.predicted_max if some else None,
                "predicted_avg": result.predicted_avg if some else None,
            }
        ),
    }


def score_row(result: ForecastScore) -> Row:
    """The score of the forecast made at ``forecast_made_at``."""
    return {
        "series_id": series_id(result.series),
        "forecast_made_at": to_ms(result.forecast_made_at),
        "scored_at": to_ms(result.scored_at),
        "model": result.model,
        "points_compared": result.points_compared,
        **split_floats(
            {
                "mae": result.mae,
                "coverage_80": result.coverage_80,
                "coverage_95": result.coverage_95,
            }
        ),
    }


def _step(timing: StepTiming) -> dict[str, Any]:
    return {
        "step": timing.step.value,
        "seconds": spell(timing.seconds),
        "error": timing.error,
    }


def run_row(result: EtlRun) -> Row:
    """One ETL cycle with its steps as JSON text."""
    return {
        "run_id": result.run_id,
        "started_at": to_ms(result.started_at),
        "finished_at": to_ms(result.finished_at),
        "ok": result.ok,
        "steps": to_json([_step(s) for s in result.steps]),
        "series_count": result.series_count,
        "results_published": result.results_published,
    }
