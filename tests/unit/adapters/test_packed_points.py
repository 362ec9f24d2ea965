"""Packed forecast points: exactly the points (and distributions) put in, and
far fewer bytes; values written before the distributions still read back."""

import math
import struct
import zlib
from collections.abc import Iterable
from typing import Any

import attrs
import pytest

from adapters.sql.legacy_points import json_to_points, points_to_json
from adapters.sql.packed import (
    FORMAT,
    FORMAT_WITH_BANDS,
    pack_points,
    unpack,
    unpack_points,
)
from monitoring_core.forecasts import Band, ForecastPoint
from tests.support import factories
from tests.support.forecast_shapes import forecasts

NAN, INF = math.nan, math.inf
AWKWARD = [0.0, -0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 0.1 + 0.2]
AWKWARD += [NAN, INF, -INF, -1.5, 1e-300]
FIELDS = ("timestamp", "mean", "lower_80", "upper_80", "lower_95", "upper_95")


def _band_bits(band: Band | None) -> bytes | None:
    return None if band is None else struct.pack("<5d", *band.quantiles())


def _bits(points: Iterable[ForecastPoint]) -> list[Any]:
    """Every number of the points as its IEEE 754 bytes (NaN equals itself),
    and whether each has a running max and min (their bytes when it has)."""
    return [
        (
            struct.pack("<6d", *[getattr(p, k) for k in FIELDS]),
            _band_bits(p.running_max),
            _band_bits(p.running_min),
        )
        for p in points
    ]


def _round_trip(
    points: tuple[ForecastPoint, ...], step: int, average: Band | None = None
) -> None:
    packed = pack_points(points, step, average)
    banded = average is not None or any(p.running_max or p.running_min for p in points)
    assert packed[0] == (FORMAT_WITH_BANDS if banded else FORMAT)
    back = unpack(packed, step)
    assert _bits(back.points) == _bits(points)
    assert _band_bits(back.average) == _band_bits(average)
    assert _bits(unpack_points(packed, step)) == _bits(points)


def _only(name: str, value: Any) -> dict[str, Any]:
    return {name: value}


def _without_bands(points: Iterable[ForecastPoint]) -> tuple[ForecastPoint, ...]:
    return tuple(attrs.evolve(p, running_max=None, running_min=None) for p in points)


@pytest.mark.parametrize(("horizon", "step"), [(120, 5), (10, 60), (1, 60)])
def test_real_forecasts_read_back_bit_for_bit(horizon: int, step: int) -> None:
    made = forecasts(120, horizon, step)
    assert {"mean", "ses", "holt_damped"} <= {f.model for f in made}
    assert any(p.lower_95 == 0.0 for f in made for p in f.points)  # clamped
    assert all(f.average and f.window_max and f.window_min for f in made)
    for forecast in made:
        _round_trip(forecast.points, step, forecast.average)
        _round_trip(_without_bands(forecast.points), step)


@pytest.mark.parametrize("field", FIELDS)
def test_every_awkward_value_in_every_field_reads_back(field: str) -> None:
    base = factories.forecast().points
    points = tuple(
        attrs.evolve(base[i % len(base)], **_only(field, value))
        for i, value in enumerate(AWKWARD)
    )
    _round_trip(points, 60)
    _round_trip(points[::-1], 60)


def test_irregular_times_and_asymmetric_intervals_read_back() -> None:
    points = tuple(
        ForecastPoint(
            timestamp=1795694400.123 + 7.3 * i * i,
            mean=i * 0.1,
            lower_80=-3.0 * i,
            upper_80=0.0,  # a zero first half-width (no ratio)
            lower_95=-1e9,
            upper_95=i**3 + 0.5,
        )
        for i in range(50)
    )
    _round_trip(points, 60)
    _round_trip(points, 0)


def test_no_points_and_int_values_read_back_as_the_floats_they_stand_for() -> None:
    assert unpack_points(pack_points((), 60), 60) == ()
    ints = ForecastPoint(
        timestamp=1795694460,
        mean=2**70,
        lower_80=-7,
        upper_80=3,
        lower_95=-8,
        upper_95=4,
    )
    as_floats: dict[str, Any] = {k: float(getattr(ints, k)) for k in FIELDS}
    expected = ForecastPoint(**as_floats)
    assert _bits(unpack_points(pack_points((ints,), 60), 60)) == _bits([expected])


def test_the_json_of_0003_converts_to_the_same_points_without_distributions() -> None:
    for forecast in forecasts(30, 120, 5):
        text = points_to_json(forecast.points)
        assert _bits(json_to_points(text)) == _bits(_without_bands(forecast.points))


def test_real_forecasts_of_120_points_take_a_sixth_of_their_json() -> None:
    """Measured on the engine of issue 13, whose intervals are asymmetric (the
    symmetric predictions of format 1 fit them less well than ADR 0019's)."""
    made = [_without_bands(f.points) for f in forecasts(300, 120, 5)]
    text = sum(len(points_to_json(points)) for points in made)
    packed = sum(len(pack_points(points, 5)) for points in made)
    assert packed * 6 <= text
    for points in made:  # the worst model alone is still about 5 times smaller
        assert len(pack_points(points, 5)) * 4 <= len(points_to_json(points))


def test_distributions_cost_less_than_their_raw_doubles() -> None:
    """Ten doubles a point and five a forecast, raw, would be 80 n + 40 bytes."""
    for horizon, step in ((120, 5), (10, 60)):
        for forecast in forecasts(60, horizon, step):
            with_bands = len(pack_points(forecast.points, step, forecast.average))
            bare = len(pack_points(_without_bands(forecast.points), step))
            assert with_bands - bare < 80 * horizon + 40


ORDERED = Band(lower_95=-1.0, lower_80=0.0, median=0.5, upper_80=1.0, upper_95=3.0)
BAND_FIELDS = ("lower_95", "lower_80", "median", "upper_80", "upper_95")


@pytest.mark.parametrize("which", ["running_max", "running_min", "average"])
@pytest.mark.parametrize("field", BAND_FIELDS)
def test_every_awkward_value_in_every_band_field_reads_back(
    which: str, field: str
) -> None:
    base = factories.forecast_with_distributions()
    points = base.points
    for i, value in enumerate(AWKWARD):
        band = attrs.evolve(ORDERED, **{field: value})
        if which == "average":
            _round_trip(points, 60, band)
            continue
        at = i % len(points)
        changed = attrs.evolve(points[at], **_only(which, band))
        _round_trip((*points[:at], changed, *points[at + 1 :]), 60, base.average)


def test_any_mix_of_given_and_missing_distributions_reads_back() -> None:
    plain = factories.forecast().points
    high, low = ORDERED, attrs.evolve(ORDERED, median=-0.5)
    for mask in range(4 ** len(plain[:4])):
        points = tuple(
            attrs.evolve(
                p,
                running_max=high if mask >> (2 * i) & 1 else None,
                running_min=low if mask >> (2 * i) & 2 else None,
            )
            for i, p in enumerate(plain[:4])
        )
        _round_trip(points, 60)
        _round_trip(points, 60, ORDERED)
    _round_trip((), 60, ORDERED)  # an average alone, without a point


def test_a_forecast_without_distributions_is_packed_as_before_them() -> None:
    """Format 1, byte for byte; format 2 only appends to its compressed body."""
    made = forecasts(10, 10, 60)[0]
    bare = pack_points(_without_bands(made.points), 60)
    assert bare == pack_points(_without_bands(made.points), 60, None)
    banded = pack_points(made.points, 60, made.average)
    assert zlib.decompress(banded[1:]).startswith(zlib.decompress(bare[1:]))


# Written by adapters/sql/packed.py of commit 2e0d6e9, before the distributions.
BEFORE = bytes.fromhex(
    "01789c636200830bec876e3942980c0d10eac37f08cde2c04073c0f2e703079801229f"
    "323038d8db236cb507006e9e098c"
)


def test_points_stored_before_distributions_read_back_without_them() -> None:
    back = unpack(BEFORE, 60)
    assert back.average is None
    assert [(p.running_max, p.running_min) for p in back.points] == [(None, None)] * 2
    expected = [
        ForecastPoint(
            timestamp=1795694460.0,
            mean=2.5,
            lower_80=1.5,
            upper_80=3.5,
            lower_95=0.0,
            upper_95=5.0,
        ),
        ForecastPoint(
            timestamp=1795694520.0,
            mean=NAN,
            lower_80=-0.0,
            upper_80=INF,
            lower_95=-INF,
            upper_95=7.25,
        ),
    ]
    assert _bits(back.points) == _bits(expected)


def _damaged_bands() -> list[bytes]:
    """Format 2 values whose band part is cut, padded or flagged wrongly."""
    forecast = factories.forecast_with_distributions()
    good = pack_points(forecast.points[:2], 60, forecast.average)
    body = zlib.decompress(good[1:])
    head = 4 + 4 * 8 + 64 * 2  # count, four header doubles, eight streams
    broken = [
        body[:-8],  # a double short
        body + b"\x00" * 8,  # a double too many
        body[:head] + b"\x04" + body[head + 1 :],  # an unknown presence bit
        body[: head + 2] + b"\x02" + body[head + 3 :],  # average neither 0 nor 1
        body[: head + 1],  # the presence bytes cut
    ]
    return [bytes([FORMAT_WITH_BANDS]) + zlib.compress(b) for b in broken]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[{}]",
        bytes([FORMAT]) + b"not zlib",
        bytes([FORMAT]) + zlib.compress(b"\x02\x00\x00\x00" + b"\x00" * 40),
        bytes([3]) + pack_points((), 60)[1:],
        *_damaged_bands(),
    ],
)
def test_bytes_that_are_not_packed_points_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="stored forecast points"):
        unpack_points(data, 60)
