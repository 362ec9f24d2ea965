"""A pure-Python metadata analyzer for unit tests and as a dependency-free fallback."""

import math
import operator
from collections.abc import Sequence
from datetime import datetime
from statistics import NormalDist

import attrs

from monitoring_core.metadata import Seasonality, SeriesMetadata, Stationarity
from monitoring_core.ports import MetadataAnalyzer
from monitoring_core.series import SeriesHistory

NON_STATIONARY_LAG1_ACF = 0.95
"""Above this lag-1 ACF, with no zero crossing up to max_lag, a level wanders."""


class _Insufficient(Exception):
    """The history cannot be analysed; the message is the reason."""


def _prepare(values: Sequence[float], min_samples: int) -> list[float]:
    """The analysed series: finite values, rescaled, gaps interpolated.

    Raises:
        _Insufficient: empty, too short, mostly missing or constant.
    """
    known = [i for i, v in enumerate(values) if math.isfinite(v)]
    if not known:
        raise _Insufficient("no samples")
    if len(known) < min_samples:
        raise _Insufficient(f"only {len(known)} samples, need {min_samples}")
    if 2 * len(known) < len(values):
        missing = len(values) - len(known)
        raise _Insufficient(f"{missing} of {len(values)} steps missing")
    finite = [values[i] for i in known]
    if min(finite) == max(finite):
        raise _Insufficient("constant")
    # Every statistic here is scale-free; a power-of-two rescale is exact and
    # keeps sums of squares of huge (or tiny) values from over/underflowing.
    exponent = math.frexp(max(abs(v) for v in finite))[1]
    scaled = [math.ldexp(v, -exponent) for v in finite]
    return _interpolate(known, scaled)


def _interpolate(known: list[int], scaled: list[float]) -> list[float]:
    """Linear interpolation between known steps; leading/trailing gaps dropped."""
    out: list[float] = []
    for j in range(len(known) - 1):
        (i0, v0), (i1, v1) = (known[j], scaled[j]), (known[j + 1], scaled[j + 1])
        slope = (v1 - v0) / (i1 - i0)
        out.extend(slope * (i - i0) + v0 for i in range(i0, i1))
    out.append(scaled[-1])
    return out


def acf(x: Sequence[float], max_lag: int) -> list[float]:
    """Biased sample ACF at lags 0..max_lag, zero beyond the series' length."""
    n = len(x)
    mean = sum(x) / n
    d = [v - mean for v in x]
    c0 = sum(map(operator.mul, d, d))
    return [
        sum(map(operator.mul, d, d[k:])) / c0 if k < n else 0.0
        for k in range(max_lag + 1)
    ]


def significant_lags(acf_values: Sequence[float], band: float) -> tuple[int, ...]:
    """Lags from 1 whose ACF lies outside ``±band``."""
    return tuple(k for k in range(1, len(acf_values)) if abs(acf_values[k]) > band)


def seasonal_lag(
    acf_values: Sequence[float], band: float, n: int, min_strength: float
) -> int | None:
    """The highest significant ACF peak after the first zero crossing, or None.

    Before the first zero crossing the ACF only shows persistence, not a
    cycle; a peak must be confirmed by the next lag, be at least
    ``min_strength`` and leave room for two full periods in ``n`` points.
    """
    first_zero = next((k for k, r in enumerate(acf_values) if r <= 0), None)
    if first_zero is None:
        return None
    best: int | None = None
    for k in range(first_zero + 1, min(len(acf_values) - 1, n // 2 + 1)):
        r = acf_values[k]
        peak = acf_values[k - 1] < r >= acf_values[k + 1]
        higher = best is None or r > acf_values[best]
        if peak and r > band and r >= min_strength and higher:
            best = k
    return best


def white_noise_band(significance: float, n: int) -> float:
    """The simple white-noise band ``z/sqrt(n)`` (1.96/sqrt(n) at 5 %)."""
    return NormalDist().inv_cdf(1 - significance / 2) / math.sqrt(n)


class InMemoryMetadataAnalyzer(MetadataAnalyzer):
    """Metadata from the ACF alone, in pure Python.

    Leading and trailing missing steps (NaN or ±inf) are dropped, interior
    ones linearly interpolated; fewer than ``min_samples`` measured points,
    more than half the grid missing or a constant series are
    ``insufficient_data``. These rules, the ACF, significant lags (white-noise
    band ``z/sqrt(n)``) and seasonality match ``SktimeMetadataAnalyzer``.

    Stationarity is a heuristic without ADF or KPSS (``adf`` and ``kpss``
    stay None): a lag-1 ACF above 0.95 whose ACF never reaches zero up to
    ``max_lag`` is NON_STATIONARY, anything else is STATIONARY.

    Args:
        max_lag: highest ACF lag.
        min_samples: fewer measured points are insufficient data.
        significance: two-sided level of the ACF band.
        min_strength: smallest ACF a seasonal peak may have.
    """

    def __init__(
        self,
        max_lag: int = 48,
        min_samples: int = 30,
        significance: float = 0.05,
        min_strength: float = 0.3,
    ) -> None:
        if max_lag < 1 or min_samples < 3 or not 0 < significance < 1:
            raise ValueError(
                "need max_lag >= 1, min_samples >= 3, 0 < significance < 1"
            )
        self._max_lag = max_lag
        self._min_samples = min_samples
        self._significance = significance
        self._min_strength = min_strength

    def analyze(
        self, histories: Sequence[SeriesHistory], computed_at: datetime
    ) -> list[SeriesMetadata]:
        """One metadata record per history, ``insufficient_data`` when needed."""
        return [self._analyze_one(h, computed_at) for h in histories]

    def _analyze_one(self, history: SeriesHistory, at: datetime) -> SeriesMetadata:
        base = SeriesMetadata(
            series=history.series,
            computed_at=at,
            lookback_seconds=max(len(history.values) - 1, 0) * history.step_seconds,
            step_seconds=history.step_seconds,
            sample_count=sum(1 for v in history.values if math.isfinite(v)),
            stationarity=Stationarity.INSUFFICIENT_DATA,
        )
        try:
            x = _prepare(history.values, self._min_samples)
        except _Insufficient as exc:
            return attrs.evolve(base, reason=str(exc))
        r = acf(x, self._max_lag)
        band = white_noise_band(self._significance, len(x))
        lag = seasonal_lag(r, band, len(x), self._min_strength)
        return attrs.evolve(
            base,
            stationarity=_heuristic_verdict(r),
            acf=tuple(r),
            acf_significant_lags=significant_lags(r, band),
            seasonality=Seasonality(
                period_seconds=None if lag is None else lag * history.step_seconds,
                strength=None if lag is None else r[lag],
            ),
        )


def _heuristic_verdict(acf_values: Sequence[float]) -> Stationarity:
    persistent = all(r > 0 for r in acf_values[1:])
    if acf_values[1] > NON_STATIONARY_LAG1_ACF and persistent:
        return Stationarity.NON_STATIONARY
    return Stationarity.STATIONARY
