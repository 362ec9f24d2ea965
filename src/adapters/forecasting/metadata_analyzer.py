"""Series metadata from sktime's ADF/KPSS estimators and a numpy ACF."""

import math
import warnings
from collections.abc import Sequence
from datetime import datetime
from statistics import NormalDist

import attrs
import numpy as np
import numpy.typing as npt
from sktime.param_est.stationarity import StationarityADF, StationarityKPSS

from monitoring_core.metadata import (
    Seasonality,
    SeriesMetadata,
    Stationarity,
    StationarityTest,
)
from monitoring_core.ports import MetadataAnalyzer
from monitoring_core.series import SeriesHistory

Floats = npt.NDArray[np.float64]

_VERDICTS = {
    (True, True): Stationarity.STATIONARY,
    (False, False): Stationarity.NON_STATIONARY,
    (False, True): Stationarity.TREND_STATIONARY,
    (True, False): Stationarity.DIFFERENCE_STATIONARY,
}


def combine_verdict(adf_stationary: bool, kpss_stationary: bool) -> Stationarity:
    """ADF (null: unit root) and KPSS (null: stationary) read together."""
    return _VERDICTS[(adf_stationary, kpss_stationary)]


class _Insufficient(Exception):
    """The history cannot be analysed; the message is the reason."""


def _prepare(values: Floats, min_samples: int) -> Floats:
    """The analysed series: finite values, rescaled, gaps interpolated.

    Raises:
        _Insufficient: empty, too short, mostly missing or constant.
    """
    known = np.flatnonzero(np.isfinite(values))
    if known.size == 0:
        raise _Insufficient("no samples")
    if known.size < min_samples:
        raise _Insufficient(f"only {known.size} samples, need {min_samples}")
    if 2 * known.size < values.size:
        missing = values.size - known.size
        raise _Insufficient(f"{missing} of {values.size} steps missing")
    finite = values[known]
    if finite.min() == finite.max():
        raise _Insufficient("constant")
    # Every statistic here is scale-free; a power-of-two rescale is exact and
    # keeps sums of squares of huge (or tiny) values from over/underflowing.
    exponent = int(np.frexp(np.abs(finite).max())[1])
    scaled = np.ldexp(finite, -exponent)
    steps = np.arange(known[0], known[-1] + 1)
    return np.interp(steps, known, scaled)


def acf(x: Floats, max_lag: int) -> Floats:
    """Biased sample ACF at lags 0..max_lag (zero beyond the series' length).

    The estimator of ``statsmodels.tsa.stattools.acf(x, adjusted=False)``,
    computed through the FFT of the zero-padded, demeaned series.
    """
    n = x.size
    d = x - x.mean()
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(d, size)
    acov = np.fft.irfft(spectrum * spectrum.conj(), size)[: min(n, max_lag + 1)]
    out = np.zeros(max_lag + 1)
    out[: acov.size] = acov / acov[0]
    return out


def seasonal_lag(r: Floats, band: float, n: int, min_strength: float) -> int | None:
    """The highest significant ACF peak after the first zero crossing, or None.

    Before the first zero crossing the ACF only shows persistence, not a
    cycle; a peak must be confirmed by the next lag, be at least
    ``min_strength`` and leave room for two full periods in ``n`` points.
    """
    crossings = np.flatnonzero(r <= 0)
    if crossings.size == 0:
        return None
    k = np.arange(crossings[0] + 1, min(r.size - 1, n // 2 + 1))
    peaks = k[(r[k - 1] < r[k]) & (r[k] >= r[k + 1])]
    peaks = peaks[(r[peaks] > band) & (r[peaks] >= min_strength)]
    # argmax takes the first of equal maxima, i.e. the shortest period.
    return int(peaks[np.argmax(r[peaks])]) if peaks.size else None


class SktimeMetadataAnalyzer(MetadataAnalyzer):
    """Stationarity by sktime's ADF and KPSS estimators, ACF and seasonality.

    Leading and trailing missing steps are dropped, interior ones linearly
    interpolated, and ±inf counts as missing. Too few points, more than half
    the grid missing, or a constant series give ``insufficient_data``; so
    does a failing test, with the error as the reason (the ACF is kept).
    Significant lags use the simple white-noise band ``z/sqrt(n)``
    (1.96/sqrt(n) at 5 %), not Bartlett's.

    Args:
        max_lag: highest ACF lag.
        min_samples: fewer measured points are insufficient data.
        significance: level of ADF, KPSS and the ACF band.
        min_strength: smallest ACF a seasonal peak may have.
        adf_max_lag: cap on ADF's lag search (below Schwert's rule
            ``12*(n/100)^(1/4)``), since each lag costs one regression.
    """

    def __init__(
        self,
        max_lag: int = 48,
        min_samples: int = 30,
        significance: float = 0.05,
        min_strength: float = 0.3,
        adf_max_lag: int = 12,
    ) -> None:
        if max_lag < 1 or min_samples < 3 or not 0 < significance < 1:
            raise ValueError(
                "need max_lag >= 1, min_samples >= 3, 0 < significance < 1"
            )
        self._max_lag = max_lag
        self._min_samples = min_samples
        self._significance = significance
        self._min_strength = min_strength
        self._adf_max_lag = adf_max_lag
        self._z = NormalDist().inv_cdf(1 - significance / 2)

    def analyze(
        self, histories: Sequence[SeriesHistory], computed_at: datetime
    ) -> list[SeriesMetadata]:
        """One metadata record per history, ``insufficient_data`` when needed."""
        return [self._analyze_one(h, computed_at) for h in histories]

    def _analyze_one(self, history: SeriesHistory, at: datetime) -> SeriesMetadata:
        values = np.asarray(history.values, dtype=np.float64)
        base = SeriesMetadata(
            series=history.series,
            computed_at=at,
            lookback_seconds=max(values.size - 1, 0) * history.step_seconds,
            step_seconds=history.step_seconds,
            sample_count=int(np.isfinite(values).sum()),
            stationarity=Stationarity.INSUFFICIENT_DATA,
        )
        try:
            x = _prepare(values, self._min_samples)
        except _Insufficient as exc:
            return attrs.evolve(base, reason=str(exc))
        described = self._describe(base, x)
        try:
            adf, kpss = self._tests(x)
        except Exception as exc:  # any library failure stays within this series
            return attrs.evolve(described, reason=f"{type(exc).__name__}: {exc}")
        verdict = combine_verdict(adf.stationary, kpss.stationary)
        return attrs.evolve(described, stationarity=verdict, adf=adf, kpss=kpss)

    def _describe(self, base: SeriesMetadata, x: Floats) -> SeriesMetadata:
        r = acf(x, self._max_lag)
        band = self._z / math.sqrt(x.size)
        lag = seasonal_lag(r, band, x.size, self._min_strength)
        return attrs.evolve(
            base,
            acf=tuple(r.tolist()),
            acf_significant_lags=tuple(
                (np.flatnonzero(np.abs(r[1:]) > band) + 1).tolist()
            ),
            seasonality=Seasonality(
                period_seconds=None if lag is None else lag * base.step_seconds,
                strength=None if lag is None else float(r[lag]),
            ),
        )

    def _tests(self, x: Floats) -> tuple[StationarityTest, StationarityTest]:
        n = x.size
        # Schwert's rule as statsmodels applies it, capped, and within the
        # nobs // 2 - 2 that adfuller accepts with a constant.
        schwert = math.ceil(12 * (n / 100) ** 0.25)
        maxlag = max(0, min(self._adf_max_lag, schwert, n // 2 - 2))
        p = self._significance
        # statsmodels warns on every call (KPSS p-values outside its table,
        # adfuller's future return type); expected, and noise per series.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adf = StationarityADF(p_threshold=p, maxlag=maxlag).fit(x)
            kpss = StationarityKPSS(p_threshold=p).fit(x)
        return _result(adf), _result(kpss)


def _result(fitted: StationarityADF | StationarityKPSS) -> StationarityTest:
    statistic, p_value = float(fitted.test_statistic_), float(fitted.pvalue_)
    if not (math.isfinite(statistic) and math.isfinite(p_value)):
        raise ValueError(f"non-finite test result {statistic}, p={p_value}")
    return StationarityTest(
        statistic=statistic, p_value=p_value, stationary=bool(fitted.stationary_)
    )
