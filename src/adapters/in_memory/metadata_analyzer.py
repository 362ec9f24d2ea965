"""A pure-Python metadata analyzer for unit tests: the textbook definitions, no tricks.

It shares no code and no shortcut with ``SktimeMetadataAnalyzer``: the ACF is
the defining sum of lagged products, exactly rounded (``math.fsum``), not an
FFT; gaps are filled by the two-point formula; the period is the best of an
explicit list of candidate lags. So when both agree, each checks the other.
"""

import itertools
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


def _why_insufficient(values: Sequence[float], min_samples: int) -> str | None:
    """Why ``values`` cannot be analysed, or None when they can."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "no samples"
    if len(finite) < min_samples:
        return f"only {len(finite)} samples, need {min_samples}"
    if 2 * len(finite) < len(values):
        return f"{len(values) - len(finite)} of {len(values)} steps missing"
    if min(finite) == max(finite):
        return "constant"
    return None


def _filled(values: Sequence[float]) -> list[float]:
    """From the first to the last finite value, gaps filled on the straight line
    between their neighbours; divided by the largest magnitude so that sums of
    products of huge or tiny values stay finite (the ACF ignores the scale)."""
    known = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    largest = max(abs(v) for _, v in known)
    points = [(i, v / largest) for i, v in known]
    out = [points[0][1]]
    for (i0, v0), (i1, v1) in itertools.pairwise(points):
        out.extend(v0 + (v1 - v0) * (i - i0) / (i1 - i0) for i in range(i0 + 1, i1))
        out.append(v1)
    return out


def _acf(x: Sequence[float], max_lag: int) -> list[float]:
    """The biased sample ACF by its definition, lags 0..max_lag (0 past ``len``)."""
    mean = math.fsum(x) / len(x)
    d = [v - mean for v in x]
    c0 = math.fsum(map(operator.mul, d, d))
    lags = range(max_lag + 1)
    return [math.fsum(map(operator.mul, d, d[k:])) / c0 for k in lags]


def _period(r: Sequence[float], band: float, n: int, min_strength: float) -> int | None:
    """The lag of the strongest ACF peak that can be a cycle, shortest on a tie.

    A candidate comes after the ACF first reaches zero (before, it only shows
    persistence), is a peak (above the lag before, not below the lag after),
    is significant and at least ``min_strength``, and fits twice in ``n``.
    """
    zero = next((k for k, v in enumerate(r) if v <= 0), None)
    if zero is None:
        return None
    candidates = [
        k
        for k in range(zero + 1, min(len(r) - 1, n // 2 + 1))
        if r[k - 1] < r[k] >= r[k + 1] and r[k] > band and r[k] >= min_strength
    ]
    return max(candidates, key=lambda k: (r[k], -k), default=None)


def _verdict(r: Sequence[float]) -> Stationarity:
    if r[1] > NON_STATIONARY_LAG1_ACF and all(v > 0 for v in r[1:]):
        return Stationarity.NON_STATIONARY
    return Stationarity.STATIONARY


class InMemoryMetadataAnalyzer(MetadataAnalyzer):
    """Metadata from the ACF alone, in pure Python.

    The rules of ``SktimeMetadataAnalyzer`` (missing steps, insufficient data,
    significant lags in the white-noise band ``z/sqrt(n)``, seasonality), each
    computed its own way. Stationarity is a heuristic without ADF or KPSS
    (``adf`` and ``kpss`` stay None): a lag-1 ACF above 0.95 whose ACF never
    reaches zero up to ``max_lag`` is NON_STATIONARY, anything else STATIONARY.

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
        self._z = NormalDist().inv_cdf(1 - significance / 2)
        self._min_strength = min_strength

    def analyze(
        self, histories: Sequence[SeriesHistory], computed_at: datetime
    ) -> list[SeriesMetadata]:
        """One metadata record per history, ``insufficient_data`` when needed."""
        return [self._analyze_one(h, computed_at) for h in histories]

    def _analyze_one(self, history: SeriesHistory, at: datetime) -> SeriesMetadata:
        values = history.values
        base = SeriesMetadata(
            series=history.series,
            computed_at=at,
            lookback_seconds=max(len(values) - 1, 0) * history.step_seconds,
            step_seconds=history.step_seconds,
            sample_count=sum(1 for v in values if math.isfinite(v)),
            stationarity=Stationarity.INSUFFICIENT_DATA,
        )
        reason = _why_insufficient(values, self._min_samples)
        if reason is not None:
            return attrs.evolve(base, reason=reason)
        x = _filled(values)
        r = _acf(x, self._max_lag)
        band = self._z / math.sqrt(len(x))
        lag = _period(r, band, len(x), self._min_strength)
        return attrs.evolve(
            base,
            stationarity=_verdict(r),
            acf=tuple(r),
            acf_significant_lags=tuple(k for k in range(1, len(r)) if abs(r[k]) > band),
            seasonality=Seasonality(
                period_seconds=None if lag is None else lag * history.step_seconds,
                strength=None if lag is None else r[lag],
            ),
        )
