"""The fast row builders write exactly what the general ones would."""

import json
import math
import random
import struct
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from adapters.sql import rows
from adapters.sql.legacy_points import json_to_points, points_to_json
from adapters.sql.packed import unpack_points
from adapters.sql.values import (
    json_number,
    special_json,
    spell,
    split_floats,
    to_json,
    to_ms,
    unix_to_ms,
)
from monitoring_core.forecasts import Forecast, ForecastPoint
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats
from tests.support import factories

NAN, INF = math.nan, math.inf
AWKWARD = [0.0, -0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, NAN]
AWKWARD += [INF, -INF, 3, -7, 2**70]


def _reference_unix_ms(seconds: float) -> int:
    return to_ms(datetime.fromtimestamp(seconds, UTC))


def test_unix_to_ms_is_the_datetime_conversion_without_the_datetime() -> None:
    rng = random.Random(7)
    seconds = [0.0, -0.0, 1e-7, -1e-7, 0.0005, 0.0015, -0.0015, 1.9999995]
    seconds += [-1.9999995, 0.4999995, -0.4999995, 1795694397.0004995]
    seconds += [-62_135_596_800.0, 253_402_300_799.999]
    seconds += [rng.uniform(-1e10, 1e10) for _ in range(20_000)]
    seconds += [rng.randint(-(10**9), 10**10) / 1000 for _ in range(20_000)]
    seconds += [rng.randint(-(10**9), 10**10) / 1e6 for _ in range(20_000)]
    seconds += [
        rng.randint(0, 10**10) + rng.randint(0, 2000) / 2000 for _ in range(20_000)
    ]
    for value in seconds:
        assert unix_to_ms(value) == _reference_unix_ms(value), value
    assert unix_to_ms(None) is None


def test_unix_to_ms_outside_the_datetime_range_still_raises() -> None:
    with pytest.raises((ValueError, OverflowError, OSError)):
        unix_to_ms(1e20)


@pytest.mark.parametrize("value", AWKWARD)
def test_json_number_is_to_json_of_the_spelled_value(value: float) -> None:
    assert json_number(value) == to_json(spell(value))


def test_json_number_matches_to_json_on_random_floats() -> None:
    rng = random.Random(3)
    for _ in range(20_000):
        value = rng.uniform(-1, 1) * 10 ** rng.randint(-300, 300)
        assert json_number(value) == to_json(spell(value))


def test_special_json_is_to_json() -> None:
    special = {"max": "+Inf", "avg": "NaN", "last": "-Inf"}
    assert special_json(special) == to_json(special)
    assert json.loads(special_json({})) == {}


def _general_window_rows(result: SeriesWindowStats) -> list[rows.Row]:
    """What ``window_stats_rows`` wrote before it was written out in full."""
    out = []
    for w in result.windows:
        row = split_floats(
            {
                "min": w.min,
                "max": w.max,
                "avg": w.avg,
                "stddev": w.stddev,
                "last": w.last,
            }
        )
        row["series_id"], row["at"] = result.series.id, to_ms(result.at)
        row["window_seconds"], row["kind"] = w.window_seconds, result.kind.value
        row["count"], row["last_timestamp"] = w.count, unix_to_ms(w.last_timestamp)
        row["special"] = to_json(json.loads(row["special"])) if row["special"] else None
        out.append(row)
    return out


def test_window_rows_equal_the_general_mapping_with_every_special_value() -> None:
    rng = random.Random(5)
    for _ in range(500):
        values = [rng.choice([None, 1.5, -0.0, NAN, INF, -INF]) for _ in range(5)]
        window = WindowStats(
            window_seconds=60,
            count=3,
            min=values[0],
            max=values[1],
            avg=values[2],
            stddev=values[3],
            last=values[4],
            last_timestamp=rng.choice([None, 1795694397.123]),
        )
        result = SeriesWindowStats(
            series=factories.KEY,
            kind=MetricKind.COUNTER,
            at=factories.NOW,
            windows=(window, window),
        )
        assert rows.window_stats_rows(result) == _general_window_rows(result)


def test_legacy_forecast_points_are_the_json_of_their_spelled_values() -> None:
    points = tuple(
        ForecastPoint(
            timestamp=factories.NOW.timestamp() + 60 * i,
            mean=value,
            lower_80=-INF,
            upper_80=1.0,
            lower_95=0.1 + 0.2,
            upper_95=2,  # an int where a float belongs
        )
        for i, value in enumerate([v for v in AWKWARD if v != -INF])
    )
    forecast = Forecast(
        series=factories.KEY,
        made_at=factories.NOW,
        step_seconds=60,
        model="ses",
        holdout_mae=0.3,
        points=points,
    )
    expected = [
        {k: spell(getattr(p, k)) for k in ("timestamp", "mean", "lower_80")}
        | {k: spell(getattr(p, k)) for k in ("upper_80", "lower_95", "upper_95")}
        for p in points
    ]
    assert points_to_json(forecast.points) == to_json(expected)
    as_floats = [attrs.evolve(p, mean=float(p.mean), upper_95=2.0) for p in points]
    assert _bits(json_to_points(to_json(expected))) == _bits(as_floats)
    packed = rows.forecast_row(forecast)["points"]
    assert _bits(unpack_points(packed, 60)) == _bits(as_floats)


def _bits(points: Iterable[ForecastPoint]) -> list[bytes]:
    """Every number of the points as its IEEE 754 bytes (NaN equals itself)."""
    return [struct.pack("<6d", *attrs.astuple(p)[:6]) for p in points]


def test_series_found_by_identity_or_by_value_have_the_same_columns() -> None:
    key = SeriesKey.of("up", {"job": "x"})
    twin = SeriesKey.of("up", {"job": "x"})
    assert rows.identity(key) == rows.identity(twin) == (key.id, '{"job":"x"}')
    moment = factories.NOW + timedelta(milliseconds=1.9)
    assert rows.ms(moment) == rows.ms(moment) == to_ms(moment)
