"""The JSON envelope of every result on the topic, encoded with one cattrs converter."""

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import cattrs

from monitoring_core.durations import format_duration
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import Result
from monitoring_core.runs import EtlRun
from monitoring_core.series import SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats

SCHEMA_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_NON_FINITE = {math.inf: "+Inf", -math.inf: "-Inf"}

_converter = cattrs.Converter()


def rfc3339(moment: datetime) -> str:
    """UTC time as ``2026-11-26T22:00:00.000Z``."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def unix_to_rfc3339(seconds: float | None) -> str | None:
    """A Unix time as RFC 3339, or None."""
    if seconds is None:
        return None
    return rfc3339(datetime.fromtimestamp(seconds, UTC))


def number(value: float | None) -> float | str | None:
    """JSON has no NaN or infinity: spell them as Prometheus' API does."""
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else _NON_FINITE[value]


_converter.register_unstructure_hook(datetime, rfc3339)
_converter.register_unstructure_hook(float, number)


def window_body(stats: WindowStats) -> dict[str, Any]:
    """One window's statistics as JSON (shared by the topic and the REST API)."""
    return {
        "window": format_duration(stats.window_seconds),
        "window_seconds": stats.window_seconds,
        "count": stats.count,
        **{
            k: number(getattr(stats, k))
            for k in ("min", "max", "avg", "stddev", "last")
        },
        "last_timestamp": unix_to_rfc3339(stats.last_timestamp),
    }


def _window_stats(result: SeriesWindowStats) -> dict[str, Any]:
    return {
        "kind": result.kind.value,
        "value_kind": result.value_kind.value,
        "at": rfc3339(result.at),
        "windows": [window_body(w) for w in result.windows],
    }


def forecast_body(result: Forecast) -> dict[str, Any]:
    """A forecast as JSON (shared by the topic and the REST API)."""
    points = [
        {**_converter.unstructure(p), "timestamp": unix_to_rfc3339(p.timestamp)}
        for p in result.points
    ]
    return {
        "made_at": rfc3339(result.made_at),
        "step_seconds": result.step_seconds,
        "horizon_seconds": result.horizon_seconds,
        "model": result.model,
        "holdout_mae": number(result.holdout_mae),
        "predicted": {
            "min": number(result.predicted_min),
            "max": number(result.predicted_max),
            "avg": number(result.predicted_avg),
        },
        "points": points,
    }


def _data(result: Result) -> tuple[str, dict[str, Any]]:
    if isinstance(result, SeriesWindowStats):
        return "window_stats", _window_stats(result)
    if isinstance(result, Forecast):
        kinds = {"kind": result.kind.value, "value_kind": result.value_kind.value}
        return "forecast", {**kinds, **forecast_body(result)}
    body: dict[str, Any] = _converter.unstructure(result)
    body.pop("series", None)
    if isinstance(result, SeriesMetadata):
        return "metadata", body
    if isinstance(result, ForecastScore):
        return "forecast_score", body
    # From the millisecond timestamps the message carries, so it can be recomputed.
    # isoformat(timespec="milliseconds") truncates, so truncate here too.
    started, finished = (
        (t - _EPOCH) // _MILLISECOND for t in (result.started_at, result.finished_at)
    )
    body["seconds"] = (finished - started) / 1000
    return "etl_run", body


def _series(key: SeriesKey) -> dict[str, Any]:
    return {"id": key.id, "name": key.name, "labels": key.label_map}


def encode(result: Result, computed_at: datetime) -> tuple[str, dict[str, Any]]:
    """The Kafka key and the JSON envelope of a result."""
    kind, data = _data(result)
    if isinstance(result, EtlRun):
        key, series = result.run_id, None
    else:
        key, series = result.series.id, _series(result.series)
    envelope = {
        "schema": SCHEMA_VERSION,
        "type": kind,
        "series": series,
        "computed_at": rfc3339(computed_at),
        "data": data,
    }
    return key, envelope


def to_bytes(envelope: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; refuses NaN so nothing invalid reaches the topic."""
    return json.dumps(envelope, separators=(",", ":"), allow_nan=False).encode()
