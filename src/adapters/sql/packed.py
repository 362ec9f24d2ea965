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
"""

import struct
import zlib
from collections.abc import Sequence
from itertools import accumulate
from operator import xor

from monitoring_core.forecasts import ForecastPoint

FORMAT = 1
_HEAD = struct.Struct("<Idddd")
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


def pack_points(points: Sequence[ForecastPoint], step_seconds: int) -> bytes:
    """The points as bytes; ``unpack_points`` gives them back exactly."""
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
    body = _HEAD.pack(n, t0, f80, f95, r) + _shuffle(streams)
    return bytes([FORMAT]) + zlib.compress(body, _LEVEL)


def _stamps(t0: float, step: int, n: int) -> list[float]:
    return [t0 + k * step for k in range(1, n + 1)]


def unpack_points(data: bytes, step_seconds: int) -> tuple[ForecastPoint, ...]:
    """The points ``pack_points`` packed with the same ``step_seconds``.

    Raises:
        ValueError: not bytes of ``pack_points`` (an unknown format or a
            damaged value).
    """
    if not data or data[0] != FORMAT:
        raise ValueError("stored forecast points are not in a known format")
    try:
        body = zlib.decompress(data[1:])
        n, t0, f80, f95, r = _HEAD.unpack_from(body)
    except (zlib.error, struct.error) as exc:
        raise ValueError(f"stored forecast points are damaged: {exc}") from exc
    raw = body[_HEAD.size :]
    if len(raw) != 64 * n:
        raise ValueError("stored forecast points are damaged: wrong length")
    streams = _split(_unshuffle(raw), n)
    stamps = _floats(_xor(streams[0], _doubles(_stamps(t0, step_seconds, n))))
    mean = _floats(_undelta(streams[1]))
    half80 = _floats(_undelta(streams[2]))
    half95 = _floats(_xor(streams[3], _doubles([r * h for h in half80])))
    bounds = _predicted_bounds(mean, half80, f80) + _predicted_bounds(mean, half95, f95)
    found = _floats(_xor(b"".join(streams[4:]), _doubles(bounds)))
    columns = [found[i * n : (i + 1) * n] for i in range(4)]
    return tuple(
        ForecastPoint(
            timestamp=t, mean=m, lower_80=l8, upper_80=u8, lower_95=l9, upper_95=u9
        )
        for t, m, l8, u8, l9, u9 in zip(stamps, mean, *columns, strict=True)
    )


def _split(data: bytes, n: int) -> list[bytes]:
    size = 8 * n
    return [data[i * size : (i + 1) * size] for i in range(8)]
