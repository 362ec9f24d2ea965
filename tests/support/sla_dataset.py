"""Gauges that leave their allowed range at known times, for exact SLA checks.

Every time is in integer milliseconds. ``E1`` is the end of the last complete
one-minute slice before ``NOW`` and ``E5`` that of the last complete five-minute
slice; ``at(m, s)`` is ``m`` minutes and ``s`` seconds after ``E1`` (m < 0: before).

``db_connections`` is judged against [10, 50], ``db_replication_lag_seconds``
against hi = 30 only. The events, slice by slice (one-minute slices, offsets from
``E1``):

* ``db_connections{cluster="db-1",instance="a"}``, every 15 s: one-sample spike
  to 57 at -50; two samples (55, 61) at -44; exactly 50 and exactly 10 at -40
  (good); below lo for the 7 slices -30 .. -24 (worst 3.25); only NaN at -12
  (unmeasured); 70 exactly at ``E1 - 3 min`` (= ``E5``, so in the one-minute
  windows only) and at ``E1`` (in no window). Before the last hour: above at
  -150 .. -148 then below at -147 .. -146, mixed slices at -130 (above wins),
  -128 (a tie: above) and -126 (below wins), below at -400 .. -381, above at -600.
* ``...{instance="b"}``, irregular spacing with millisecond offsets: a spike to 64
  at ``G - 30 s``, no sample in ``[G - 20 s, G + 5 min 30 s)``, a spike to 53 at
  ``G + 5 min 40 s`` (``G`` = -38, a multiple of five minutes); 4.0 at -20 then no
  sample for the slices -19 .. -17; below lo from -6 to -3 and no sample after.
  Also 99 one millisecond before the 12 h window and 2.0 right on its start.
* ``...{instance="c"}`` stopped 5 h before ``E1``; above at -600 .. -598.
* ``...{cluster="db-10"}`` is always 75: the objectives must not match it.
* ``db_replication_lag_seconds{cluster="db-1",instance="a"}`` never goes above
  30 (it touches 30 exactly and goes negative, which a one-sided range allows);
  ``...{instance="b"}`` is above 30 from -8 on and still is at ``NOW``.
"""

import math
from collections.abc import Callable
from datetime import UTC, datetime

from monitoring_core.series import SeriesKey

Samples = list[tuple[int, float]]
"""``(epoch milliseconds, value)``, strictly increasing in time."""

NOW = datetime(2025, 6, 2, 12, 3, 27, 250_000, tzinfo=UTC)
NOW_MS = 1_748_865_807_250
E1 = 1_748_865_780_000
"""12:03:00, the end of the last complete one-minute slice."""
E5 = E1 - 180_000
"""12:00:00, the end of the last complete five-minute slice."""
START = E1 - 13 * 3_600_000
G = E1 - 38 * 60_000
"""11:25:00: the five-minute slice from here on has no sample of series b."""
STOPPED = E1 - 300 * 60_000
"""When series c stopped reporting."""
SCRAPE = 15_000
IRREGULAR_STEPS = (7_123, 11_457, 13_789, 17_031, 23_555, 5_999)


def at(minutes: int, seconds: int = 0) -> int:
    """Milliseconds ``minutes`` and ``seconds`` after ``E1``."""
    return E1 + minutes * 60_000 + seconds * 1000


def conn(cluster: str, instance: str) -> SeriesKey:
    return SeriesKey.of(
        "db_connections", {"cluster": cluster, "instance": instance, "job": "db"}
    )


def lag(cluster: str, instance: str) -> SeriesKey:
    return SeriesKey.of(
        "db_replication_lag_seconds",
        {"cluster": cluster, "instance": instance, "job": "db"},
    )


def _regular(start: int, end: int, wave: Callable[[int], float]) -> Samples:
    return [(t, round(wave(t), 3)) for t in range(start, end + 1, SCRAPE)]


def _irregular(start: int, end: int, wave: Callable[[int], float]) -> Samples:
    out, t, k = [], start, 0
    while t <= end:
        out.append((t, round(wave(t), 3)))
        t += IRREGULAR_STEPS[k % len(IRREGULAR_STEPS)]
        k += 1
    return out


def _sine(level: float, amplitude: float, period_s: int) -> Callable[[int], float]:
    return lambda t: level + amplitude * math.sin(2 * math.pi * t / 1000 / period_s)


def _set(samples: Samples, lo: int, hi: int, value: Callable[[int], float]) -> None:
    """Give every sample in ``[lo, hi)`` the value ``value(index in range)``."""
    k = 0
    for i, (t, _) in enumerate(samples):
        if lo <= t < hi:
            samples[i] = (t, value(k))
            k += 1


def _drop(samples: Samples, lo: int, hi: int) -> None:
    samples[:] = [(t, v) for t, v in samples if not lo <= t < hi]


def _put(samples: Samples, t: int, value: float) -> None:
    _drop(samples, t, t + 1)
    samples.append((t, value))
    samples.sort()


def _conn_a() -> Samples:
    s = _regular(START, NOW_MS, _sine(30.0, 8.0, 1800))
    _put(s, at(-50, 30), 57.0)
    _put(s, at(-44, 15), 55.0)
    _put(s, at(-44, 30), 61.0)
    _put(s, at(-40, 0), 50.0)
    _put(s, at(-40, 45), 10.0)
    _set(s, at(-30), at(-23), lambda k: 9.0 - k % 4)
    _put(s, at(-27, 15), 3.25)
    _set(s, at(-12), at(-11), lambda k: math.nan)
    _put(s, at(-3), 70.0)
    _put(s, at(0), 70.0)
    _set(s, at(-150), at(-147), lambda k: (52.0, 56.0, 53.0)[k // 4])
    _set(s, at(-147), at(-145), lambda k: 8.0 - 2 * (k // 4))
    for minute, high, low in ((-130, 58.0, 5.0), (-128, 55.0, 5.0), (-126, 52.0, 3.0)):
        _put(s, at(minute, 15), high)
        _put(s, at(minute, 30), low)
    _set(s, at(-400), at(-380), lambda k: 5.0)
    _put(s, at(-390, 15), 4.0)
    _put(s, at(-600, 45), 51.0)
    return s


def _conn_b() -> Samples:
    s = _irregular(START + 3_217, NOW_MS, lambda t: 25.0 + 6 * math.cos(t / 429_718))
    _drop(s, G - 20_000, G + 330_000)
    _put(s, G - 30_000, 64.0)
    _put(s, G + 340_000, 53.0)
    _put(s, at(-20, 10), 4.0)
    _drop(s, at(-19), at(-16))
    _set(s, at(-6), at(-3), lambda k: 6.5 - 0.125 * k)
    _drop(s, at(-3), NOW_MS + 1)
    _drop(s, at(-722), at(-719))
    _put(s, at(-720) - 1, 99.0)
    _put(s, at(-720), 2.0)
    return s


def _conn_c() -> Samples:
    s = _regular(START, STOPPED - 1, _sine(30.0, 5.0, 2400))
    _set(s, at(-600), at(-597), lambda k: 51.5)
    return s


def _lag_a() -> Samples:
    s = _regular(START, NOW_MS, _sine(12.0, 10.0, 3000))
    for t in (at(-45, 30), at(-100), at(-500, 15), at(-1, 45)):
        _put(s, t, 30.0)
    _put(s, at(-20), -4.5)
    return s


def _lag_b() -> Samples:
    s = _regular(START, NOW_MS, _sine(10.0, 5.0, 1200))
    _set(s, at(-8), NOW_MS + 1, lambda k: 31.0 + 0.5 * k)
    return s


def build() -> dict[SeriesKey, Samples]:
    """Every series with its samples."""
    return {
        conn("db-1", "a"): _conn_a(),
        conn("db-1", "b"): _conn_b(),
        conn("db-1", "c"): _conn_c(),
        conn("db-10", "a"): _regular(START, NOW_MS, lambda t: 75.0),
        lag("db-1", "a"): _lag_a(),
        lag("db-1", "b"): _lag_b(),
        lag("db-10", "a"): _regular(START, NOW_MS, lambda t: 100.0),
    }


def _number(value: float) -> str:
    return "NaN" if math.isnan(value) else repr(value)


def to_openmetrics(data: dict[SeriesKey, Samples]) -> str:
    """OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``."""
    lines: list[str] = []
    for name in sorted({key.name for key in data}):
        lines.append(f"# TYPE {name} gauge")
        for key in (k for k in data if k.name == name):
            labels = ",".join(f'{k}="{v}"' for k, v in key.labels)
            lines += [
                f"{name}{{{labels}}} {_number(v)} {t // 1000}.{t % 1000:03d}"
                for t, v in data[key]
            ]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
