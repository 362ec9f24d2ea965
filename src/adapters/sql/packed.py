"""Forecast points as a small, lossless binary value (ADR 0019).

Every number is an IEEE 754 double, so what is read back is bit for bit what
was written (NaN, ±Inf and −0.0 included, on MariaDB too). The bytes are:

- ``FORMAT`` (one byte, outside the compression), then zlib of:
- the point count (uint32) and four doubles: the time before the first point
  ``t0``, the interval floors ``f80`` and ``f95`` (the smallest lower bound of
  each interval) and the ratio ``r`` of the first 95 % to the first 80 %
  half-width;
- eight streams of ``n`` doubles, each the XOR of a value with a prediction
  made from what precedes it: timestamps with ``t0 + k * step``; means and
  80 % half-widths (``upper_80 - mean``) with the previous one; 95 %
  half-widths with ``r`` times the 80 % one; each upper bound with ``mean +
  half-width`` and each lower bound with ``max(floor, mean - half-width)``;
- the streams byte-shuffled (every value's first byte, then every second
  byte...), so the zero bytes a good prediction leaves line up for zlib.

A forecast the predictions do not fit (asymmetric intervals, irregular
timestamps) is stored just as exactly, only less compactly.

Format 2 (ADR 0039) adds the distributions of a forecast: the same bytes as
format 1 (with ``FORMAT_WITH_BANDS`` first), followed inside the compression
by ``n`` presence bytes (bit 0: the point has ``running_max``, bit 1:
``running_min``), one byte saying whether the forecast's ``average`` follows,
then, byte-shuffled, five streams (the quantiles, lowest first) of the
running max of the points that have one, each value XOR the previous one of
its stream (the first XOR the quantile of its point's own interval, which a
running max or min at the first step equals), five such streams of the
running min, and the five quantiles of the average. A forecast without any
distribution is written in format 1, byte for byte as before; both formats
are read.
"""

import struct
import zlib
from collections.abc import Sequence
from itertools import accumulate
from operator import xor
from typing import NamedTuple

import attrs

from monitoring_core.forecasts import Band, ForecastPoint

FORMAT = 1
"""The first byte of points without distributions."""
FORMAT_WITH_BANDS = 2
"""The first byte of points with some distribution, or of a forecast average."""
_HEAD = struct.Struct("<Idddd")
_MAX, _MIN = 1, 2  # presence bits of a point's running max and min
_LEVEL = 6  # zlib level 9 gains under 1 % here and costs more CPU


def _doubles(values: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(values)}d", *values)


def _floats(data: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(data) // 8}d", data))


def _xor(a: bytes, b: bytes) -> bytes:
    """Bitwise XOR of two byte strings of the same length."""
    n = len(a)
    return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(
        n, "little"
    )


def _undelta(data: bytes) -> bytes:
    words = struct.unpack(f"<{len(data) // 8}Q", data)
    return struct.pack(f"<{len(words)}Q", *accumulate(words, xor))


def _shuffle(data: bytes) -> bytes:
    return b"".join([data[i::8] for i in range(8)])


def _unshuffle(data: bytes) -> bytes:
    out, size = bytearray(len(data)), len(data) // 8
    for i in range(8):
        out[i::8] = data[i * size : (i + 1) * size]
    return bytes(out)


def _ratio(high: float, low: float) -> float:
    try:
        return high / low
    except ZeroDivisionError:
        return 1.0


def _predicted_bounds(
    mean: Sequence[float], half: Sequence[float], floor: float
) -> list[float]:
    """The lower then the upper bounds the interval would have if it were
    symmetric about the mean, lower ones raised to ``floor`` (value domains)."""
    lower = [max(floor, m - h) for m, h in zip(mean, half, strict=True)]
    return lower + [m + h for m, h in zip(mean, half, strict=True)]


def _previous(values: list[float]) -> list[float]:
    """Each value's predecessor (0.0, all zero bits, for the first)."""
    return [0.0, *values[:-1]] if values else []


class Unpacked(NamedTuple):
    """What a packed value holds: the points and the forecast's average."""

    points: tuple[ForecastPoint, ...]
    average: Band | None


def pack_points(
    points: Sequence[ForecastPoint], step_seconds: int, average: Band | None = None
) -> bytes:
    """The points (and the forecast's average) as bytes; ``unpack`` gives them
    back exactly."""
    body = _points_body(points, step_seconds)
    bands = _bands_body(points, average)
    if bands is None:
        return bytes([FORMAT]) + zlib.compress(body, _LEVEL)
    return bytes([FORMAT_WITH_BANDS]) + zlib.compress(body + bands, _LEVEL)


def _points_body(points: Sequence[ForecastPoint], step_seconds: int) -> bytes:
    n = len(points)
    # As floats: the decoder computes its predictions with floats, not ints.
    f = float
    stamps = [f(p.timestamp) for p in points]
    mean = [f(p.mean) for p in points]
    low80, up80 = [f(p.lower_80) for p in points], [f(p.upper_80) for p in points]
    low95, up95 = [f(p.lower_95) for p in points], [f(p.upper_95) for p in points]
    half80 = [u - m for u, m in zip(up80, mean, strict=True)]
    half95 = [u - m for u, m in zip(up95, mean, strict=True)]
    t0 = stamps[0] - step_seconds if n else 0.0
    f80, f95 = (min(low80), min(low95)) if n else (0.0, 0.0)
    r = _ratio(half95[0], half80[0]) if n else 1.0
    # The eight streams, each value XOR its prediction, in one pass.
    actual = stamps + mean + half80 + half95 + low80 + up80 + low95 + up95
    predicted = (
        _stamps(t0, step_seconds, n)
        + _previous(mean)
        + _previous(half80)
        + [r * h for h in half80]
        + _predicted_bounds(mean, half80, f80)
        + _predicted_bounds(mean, half95, f95)
    )
    streams = _xor(_doubles(actual), _doubles(predicted))
    return _HEAD.pack(n, t0, f80, f95, r) + _shuffle(streams)


def _bands_body(points: Sequence[ForecastPoint], average: Band | None) -> bytes | None:
    """The presence bytes and the band streams; None when there is no band."""
    highs = [p.running_max for p in points if p.running_max is not None]
    lows = [p.running_min for p in points if p.running_min is not None]
    if not highs and not lows and average is None:
        return None
    present = bytes(
        (_MAX if p.running_max is not None else 0)
        | (_MIN if p.running_min is not None else 0)
        for p in points
    )
    actual: list[float] = []
    predicted: list[float] = []
    averages = [] if average is None else [average]
    for bands, bit in ((highs, _MAX), (lows, _MIN), (averages, 0)):
        first = _own(_first(points, present, bit))
        for level in range(5):
            stream = [float(b.quantiles()[level]) for b in bands]
            actual += stream
            predicted += [first[level], *stream[:-1]] if stream else []
    streams = _xor(_doubles(actual), _doubles(predicted))
    return present + bytes([average is not None]) + _shuffle(streams)


def _first(
    points: Sequence[ForecastPoint], present: bytes, bit: int
) -> ForecastPoint | None:
    """The first point whose presence byte has ``bit`` (none for bit 0)."""
    return next((p for p, f in zip(points, present, strict=True) if f & bit), None)


def _own(point: ForecastPoint | None) -> tuple[float, ...]:
    """The point's own quantiles, which its running max and min have at the
    first step: the prediction of each stream's first value (0.0 without)."""
    if point is None:
        return (0.0,) * 5
    quantiles = (point.lower_95, point.lower_80, point.mean)
    return tuple(float(q) for q in (*quantiles, point.upper_80, point.upper_95))


def _stamps(t0: float, step: int, n: int) -> list[float]:
    return [t0 + k * step for k in range(1, n + 1)]


def unpack(data: bytes, step_seconds: int) -> Unpacked:
    """The points and average ``pack_points`` packed with the same
    ``step_seconds``, from either format.

    Raises:
        ValueError: not bytes of ``pack_points`` (an unknown format or a
            damaged value).
    """
    if not data or data[0] not in (FORMAT, FORMAT_WITH_BANDS):
        raise ValueError("stored forecast points are not in a known format")
    try:
        body = zlib.decompress(data[1:])
        n, t0, f80, f95, r = _HEAD.unpack_from(body)
    except (zlib.error, struct.error) as exc:
        raise ValueError(f"stored forecast points are damaged: {exc}") from exc
    end = _HEAD.size + 64 * n
    if len(body) < end or (data[0] == FORMAT and len(body) != end):
        raise ValueError("stored forecast points are damaged: wrong length")
    streams = _split(_unshuffle(body[_HEAD.size : end]), n)
    stamps = _floats(_xor(streams[0], _doubles(_stamps(t0, step_seconds, n))))
    mean = _floats(_undelta(streams[1]))
    half80 = _floats(_undelta(streams[2]))
    half95 = _floats(_xor(streams[3], _doubles([r * h for h in half80])))
    bounds = _predicted_bounds(mean, half80, f80) + _predicted_bounds(mean, half95, f95)
    found = _floats(_xor(b"".join(streams[4:]), _doubles(bounds)))
    columns = [found[i * n : (i + 1) * n] for i in range(4)]
    points = tuple(
        ForecastPoint(
            timestamp=t, mean=m, lower_80=l8, upper_80=u8, lower_95=l9, upper_95=u9
        )
        for t, m, l8, u8, l9, u9 in zip(stamps, mean, *columns, strict=True)
    )
    if data[0] == FORMAT:
        return Unpacked(points, None)
    return _with_bands(points, body[end:])


def unpack_points(data: bytes, step_seconds: int) -> tuple[ForecastPoint, ...]:
    """The points of ``unpack`` (without the forecast's average)."""
    return unpack(data, step_seconds).points


def _with_bands(points: tuple[ForecastPoint, ...], data: bytes) -> Unpacked:
    """The points given the bands of format 2's tail, and the average."""
    n = len(points)
    present, averaged = data[:n], data[n : n + 1]
    if len(present) != n or averaged not in (b"\x00", b"\x01"):
        raise ValueError("stored forecast points are damaged: no band presence")
    if any(flags > _MAX | _MIN for flags in present):
        raise ValueError("stored forecast points are damaged: unknown band flags")
    counts = [sum(1 for f in present if f & bit) for bit in (_MAX, _MIN)]
    counts.append(averaged[0])
    raw = data[n + 1 :]
    if len(raw) != 40 * sum(counts):
        raise ValueError("stored forecast points are damaged: wrong band length")
    streams, bands = _unshuffle(raw), []
    for count, bit in zip(counts, (_MAX, _MIN, 0), strict=True):
        first = _own(_first(points, present, bit))
        bands.append(_bands(streams[: 40 * count], count, first))
        streams = streams[40 * count :]
    highs, lows = iter(bands[0]), iter(bands[1])
    return Unpacked(
        tuple(
            attrs.evolve(
                p,
                running_max=next(highs) if flags & _MAX else None,
                running_min=next(lows) if flags & _MIN else None,
            )
            for p, flags in zip(points, present, strict=True)
        ),
        bands[2][0] if bands[2] else None,
    )


def _bands(streams: bytes, count: int, first: tuple[float, ...]) -> list[Band]:
    """``count`` bands from their five streams, one per quantile, each value
    XOR the previous one (the first XOR its value in ``first``)."""
    size, quantiles = 8 * count, []
    for level in range(5):
        stream = streams[level * size : (level + 1) * size]
        if count:
            stream = _xor(stream[:8], _doubles([first[level]])) + stream[8:]
        quantiles.append(_floats(_undelta(stream)))
    return [
        Band(lower_95=a, lower_80=b, median=c, upper_80=d, upper_95=e)
        for a, b, c, d, e in zip(*quantiles, strict=True)
    ]


def _split(data: bytes, n: int) -> list[bytes]:
    size = 8 * n
    return [data[i * size : (i + 1) * size] for i in range(8)]
