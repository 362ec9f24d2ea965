"""Forecast points as JSON text: the ``points`` column of schema 0003 and older.

Kept for migration 0004, which converts this text to ``adapters.sql.packed``
and back, and for the storage benchmark, which measures both encodings in
the same run (ADR 0019). The text has no place for the distributions of ADR
0039: a downgrade below 0004 drops them.
"""

import json
import math
from collections.abc import Sequence

from adapters.sql.values import json_number, required, unspell
from monitoring_core.forecasts import ForecastPoint


def _point(point: ForecastPoint) -> str:
    """``to_json`` of the point's spelled values (keys sorted), written directly."""
    low80, low95, mean = point.lower_80, point.lower_95, point.mean
    stamp, up80, up95 = point.timestamp, point.upper_80, point.upper_95
    try:  # all finite floats (float.__repr__ refuses anything else)
        if math.isfinite(low80 + low95 + mean + stamp + up80 + up95):
            r = float.__repr__
            return (
                f'{{"lower_80":{r(low80)},"lower_95":{r(low95)},'
                f'"mean":{r(mean)},"timestamp":{r(stamp)},'
                f'"upper_80":{r(up80)},"upper_95":{r(up95)}}}'
            )
    except TypeError:
        pass
    n = json_number
    return (
        f'{{"lower_80":{n(point.lower_80)},"lower_95":{n(point.lower_95)},'
        f'"mean":{n(point.mean)},"timestamp":{n(point.timestamp)},'
        f'"upper_80":{n(point.upper_80)},"upper_95":{n(point.upper_95)}}}'
    )


def points_to_json(points: Sequence[ForecastPoint]) -> str:
    """A JSON array of ``{lower_80, lower_95, mean, timestamp, upper_80,
    upper_95}`` objects, NaN and ±Inf spelled as in the messages."""
    return "[" + ",".join([_point(p) for p in points]) + "]"


_KEYS = ("timestamp", "mean", "lower_80", "upper_80", "lower_95", "upper_95")


def _from_json(values: dict[str, float | str]) -> ForecastPoint:
    timestamp, mean, low80, up80, low95, up95 = (
        required(unspell(values[k])) for k in _KEYS
    )
    return ForecastPoint(
        timestamp=timestamp,
        mean=mean,
        lower_80=low80,
        upper_80=up80,
        lower_95=low95,
        upper_95=up95,
    )


def json_to_points(text: str) -> tuple[ForecastPoint, ...]:
    """The inverse of ``points_to_json``."""
    return tuple(_from_json(p) for p in json.loads(text))
