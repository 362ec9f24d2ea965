"""Packed forecast points: exactly the points put in, and far fewer bytes."""

import math
import struct
import zlib
from collections.abc import Iterable

import attrs
import pytest

from adapters.sql.legacy_points import json_to_points, points_to_json
from adapters.sql.packed import FORMAT, pack_points, unpack_points
from monitoring_core.forecasts import ForecastPoint
from tests.support import factories
from tests.support.forecast_shapes import forecasts

NAN, INF = math.nan, math.inf
AWKWARD = [0.0, -0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 0.1 + 0.2]
AWKWARD += [NAN, INF, -INF, -1.5, 1e-300]
FIELDS = ("timestamp", "mean", "lower_80", "upper_80", "lower_95", "upper_95")


def _bits(points: Iterable[ForecastPoint]) -> list[bytes]:
    """Every number of the points as its IEEE 754 bytes (NaN equals itself)."""
    return [struct.pack("<6d", *attrs.astuple(p)) for p in points]


def _round_trip(points: tuple[ForecastPoint, ...], step: int) -> None:
    back = unpack_points(pack_points(points, step), step)
    assert _bits(back) == _bits(points)


@pytest.mark.parametrize(("horizon", "step"), [(120, 5), (10, 60), (1, 60)])
def test_real_forecasts_read_back_bit_for_bit(horizon: int, step: int) -> None:
    made = forecasts(120, horizon, step)
    assert {f.model for f in made} == {"mean", "ses", "holt_damped"}
    assert any(p.lower_95 == 0.0 for f in made for p in f.points)  # clamped
    for forecast in made:
        _round_trip(forecast.points, step)


@pytest.mark.parametrize("field", FIELDS)
def test_every_awkward_value_in_every_field_reads_back(field: str) -> None:
    base = factories.forecast().points
    points = tuple(
        attrs.evolve(base[i % len(base)], **{field: value})
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
    expected = ForecastPoint(**{k: float(v) for k, v in attrs.asdict(ints).items()})
    assert _bits(unpack_points(pack_points((ints,), 60), 60)) == _bits([expected])


def test_the_json_of_0003_converts_to_the_same_points() -> None:
    for forecast in forecasts(30, 120, 5):
        text = points_to_json(forecast.points)
        assert _bits(json_to_points(text)) == _bits(forecast.points)


def test_real_forecasts_of_120_points_take_a_tenth_of_their_json() -> None:
    made = forecasts(300, 120, 5)
    text = sum(len(points_to_json(f.points)) for f in made)
    packed = sum(len(pack_points(f.points, 5)) for f in made)
    assert packed * 10 <= text
    for forecast in made:  # the worst model alone is still about 11 times smaller
        assert len(pack_points(forecast.points, 5)) * 8 <= len(
            points_to_json(forecast.points)
        )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[{}]",
        bytes([FORMAT]) + b"not zlib",
        bytes([FORMAT]) + zlib.compress(b"\x02\x00\x00\x00" + b"\x00" * 40),
    ],
)
def test_bytes_that_are_not_packed_points_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="stored forecast points"):
        unpack_points(data, 60)
