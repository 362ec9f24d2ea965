"""Domain values as JSON: RFC 3339 UTC times, non-finite floats spelled as text.

The Kafka messages and the REST answers write times, numbers, windows and
forecasts the same way; this module is that one way, so neither adapter needs
the other (ADR 0027).
"""

import math
from datetime import UTC, datetime
from typing import Any

import cattrs

from monitoring_core.durations import format_duration
from monitoring_core.forecasts import Band, Forecast, ForecastPoint
from monitoring_core.series import SeriesKey
from monitoring_core.windows import WindowStats

_NON_FINITE = {math.inf: "+Inf", -math.inf: "-Inf"}


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


def converter() -> cattrs.Converter:
    """A new cattrs converter writing times and floats as above (one per edge)."""
    made = cattrs.Converter()
    made.register_unstructure_hook(datetime, rfc3339)
    made.register_unstructure_hook(float, number)
    return made


def series_ref(key: SeriesKey) -> dict[str, Any]:
    """Id, name and labels."""
    return {"id": key.id, "name": key.name, "labels": key.label_map}


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


BAND_KEYS = ("lower_95", "lower_80", "median", "upper_80", "upper_95")
"""The keys of a band's JSON object, lowest quantile first."""
POINT_KEYS = ("mean", "lower_80", "upper_80", "lower_95", "upper_95")
"""The numbers every forecast point carries, after its timestamp."""


def band_body(band: Band) -> dict[str, Any]:
    """A band's five quantiles as JSON."""
    return {k: number(q) for k, q in zip(BAND_KEYS, band.quantiles(), strict=True)}


def _point(point: ForecastPoint) -> dict[str, Any]:
    body: dict[str, Any] = {"timestamp": unix_to_rfc3339(point.timestamp)}
    body.update((k, number(getattr(point, k))) for k in POINT_KEYS)
    # Absent rather than null when not given: messages without distributions
    # stay byte for byte those of an ETL that predates them (ADR 0039).
    if point.running_max is not None:
        body["running_max"] = band_body(point.running_max)
    if point.running_min is not None:
        body["running_min"] = band_body(point.running_min)
    return body


def _intervals(result: Forecast) -> dict[str, Any]:
    """The known distributions of the window min, max and mean, by name."""
    bands = {"min": result.window_min, "max": result.window_max}
    bands["avg"] = result.average
    return {name: band_body(b) for name, b in bands.items() if b is not None}


def forecast_body(result: Forecast) -> dict[str, Any]:
    """A forecast as JSON (shared by the topic and the REST API).

    ``predicted`` gains ``intervals`` (the quantiles of the window min, max and
    mean) only when the forecast gives some; each point gains ``running_max``
    and ``running_min`` only when it gives them (ADR 0039).
    """
    predicted: dict[str, Any] = {
        "min": number(result.predicted_min),
        "max": number(result.predicted_max),
        "avg": number(result.predicted_avg),
    }
    intervals = _intervals(result)
    if intervals:
        predicted["intervals"] = intervals
    return {
        "made_at": rfc3339(result.made_at),
        "step_seconds": result.step_seconds,
        "horizon_seconds": result.horizon_seconds,
        "model": result.model,
        "holdout_mae": number(result.holdout_mae),
        "predicted": predicted,
        "points": [_point(p) for p in result.points],
    }
