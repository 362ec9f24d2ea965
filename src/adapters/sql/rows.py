"""Named mappers from results to rows (dicts of column values)."""

import functools
import math
from datetime import datetime
from typing import Any

from adapters.bounded_cache import BoundedCache
from adapters.sql.packed import pack_points
from adapters.sql.values import (
    shards_text,
    spell,
    spelled_list,
    split_floats,
    to_json,
    to_ms,
)
from adapters.sql.values import unix_to_ms as _unix_ms
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata, StationarityTest
from monitoring_core.runs import EtlRun, StepTiming
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats

Row = dict[str, Any]


_REMEMBERED = 1 << 16
# Series and times recur in every batch: their column values are remembered.
# The decoder hands out one SeriesKey object per series, found here by identity
# (the entry holds the key, so its id cannot be reused while it is there).
_identities: BoundedCache[int, tuple[SeriesKey, str, str]]
_identities = BoundedCache(_REMEMBERED)
_moments: BoundedCache[datetime, int] = BoundedCache(_REMEMBERED)


@functools.lru_cache(maxsize=_REMEMBERED)
def _identity_of(key: SeriesKey) -> tuple[str, str]:
    return key.id, to_json(key.label_map)


def identity(key: SeriesKey) -> tuple[str, str]:
    """Id (a SHA-256) and labels as JSON."""
    known = _identities.get(id(key))
    if known is not None and known[0] is key:
        return known[1], known[2]
    found = _identity_of(key)
    _identities.keep(id(key), (key, *found))
    return found


def series_id(key: SeriesKey) -> str:
    """``key.id``."""
    return identity(key)[0]


def ms(moment: datetime) -> int:
    """``to_ms``, remembered."""
    found = _moments.get(moment)
    if found is None:
        found = _moments.keep(moment, to_ms(moment))
    return found


def series_row(key: SeriesKey, kind: MetricKind | None, seen: datetime) -> Row:
    """A series seen at ``seen``; ``kind`` None when the result does not say."""
    seen_ms = ms(seen)
    identity_, labels = identity(key)
    return {
        "id": identity_,
        "name": key.name,
        "labels": labels,
        "kind": None if kind is None else kind.value,
        "first_seen": seen_ms,
        "last_seen": seen_ms,
    }


def window_stats_rows(result: SeriesWindowStats) -> list[Row]:
    """One row per window (the most frequent rows, so written out in full)."""
    key, at, kind = series_id(result.series), ms(result.at), result.kind.value
    finite = math.isfinite
    rows = []
    for w in result.windows:
        low, high, avg, stddev, last = w.min, w.max, w.avg, w.stddev, w.last
        stamp = w.last_timestamp
        row = {
            "at": at,
            "series_id": key,
            "window_seconds": w.window_seconds,
            "kind": kind,
            "count": w.count,
            "min": low,
            "max": high,
            "avg": avg,
            "stddev": stddev,
            "last": last,
            "last_timestamp": None if stamp is None else _unix_ms(stamp),
            "special": None,
        }
        if not (
            (low is None or finite(low))
            and (high is None or finite(high))
            and (avg is None or finite(avg))
            and (stddev is None or finite(stddev))
            and (last is None or finite(last))
        ):
            # As split_floats does; the names are in sorted order already.
            named = (
                ("avg", avg),
                ("last", last),
                ("max", high),
                ("min", low),
                ("stddev", stddev),
            )
            spelled = []
            for name, value in named:
                if value is not None and not finite(value):
                    row[name] = None
                    spelled.append(f'"{name}":"{spell(value)}"')
            row["special"] = "{" + ",".join(spelled) + "}"
        rows.append(row)
    return rows


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
        "computed_at": ms(result.computed_at),
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


def forecast_row(result: Forecast) -> Row:
    """A forecast with its points and their distributions packed (format 2 of
    ``adapters.sql.packed`` when it has some, else format 1)."""
    some = bool(result.points)
    return {
        "series_id": series_id(result.series),
        "made_at": ms(result.made_at),
        "step_seconds": result.step_seconds,
        "model": result.model,
        "points": pack_points(result.points, result.step_seconds, result.average),
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
        "forecast_made_at": ms(result.forecast_made_at),
        "scored_at": ms(result.scored_at),
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
        "started_at": ms(result.started_at),
        "finished_at": ms(result.finished_at),
        "ok": result.ok,
        "steps": to_json([_step(s) for s in result.steps]),
        "series_count": result.series_count,
        "results_published": result.results_published,
        "results_delivered": result.results_delivered,
        "results_buffered": result.results_buffered,
        "aborted": result.aborted,
        "worker": result.worker,
        "shards": shards_text(result.shards),
    }
