"""The metadata analyzers: the shared contract plus statsmodels references."""

import math
import warnings
from typing import Any

import numpy as np
import pytest
from statsmodels.tsa.stattools import acf as sm_acf
from statsmodels.tsa.stattools import adfuller, kpss

from adapters.forecasting import metadata_analyzer as sktime_module
from adapters.forecasting.metadata_analyzer import (
    SktimeMetadataAnalyzer,
    combine_verdict,
)
from adapters.in_memory.metadata_analyzer import InMemoryMetadataAnalyzer
from monitoring_core.metadata import SeriesMetadata, Stationarity
from monitoring_core.ports import MetadataAnalyzer
from tests.contracts.metadata_analyzer_contract import (
    AT,
    NAN,
    MetadataAnalyzerContract,
    history,
    random_walk,
    sine,
    white_noise,
)


class TestSktimeMetadataAnalyzer(MetadataAnalyzerContract):
    def make_analyzer(
        self, *, max_lag: int = 48, min_samples: int = 30
    ) -> MetadataAnalyzer:
        return SktimeMetadataAnalyzer(max_lag=max_lag, min_samples=min_samples)


class TestInMemoryMetadataAnalyzer(MetadataAnalyzerContract):
    def make_analyzer(
        self, *, max_lag: int = 48, min_samples: int = 30
    ) -> MetadataAnalyzer:
        return InMemoryMetadataAnalyzer(max_lag=max_lag, min_samples=min_samples)


def _analyze(values: Any, analyzer: MetadataAnalyzer | None = None) -> SeriesMetadata:
    analyzer = analyzer or SktimeMetadataAnalyzer()
    [result] = analyzer.analyze([history([float(v) for v in values])], AT)
    return result


def _random_series() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    ar = np.zeros(400)
    for t in range(1, ar.size):
        ar[t] = 0.8 * ar[t - 1] + rng.normal()
    return [
        rng.normal(size=60),
        rng.normal(size=288) + np.linspace(0, 5, 288),
        ar,
        np.cumsum(rng.normal(size=1440)),
        1e6 + rng.exponential(size=500),
    ]


@pytest.mark.parametrize("x", _random_series(), ids=lambda x: f"n{x.size}")
def test_acf_equals_statsmodels(x: np.ndarray) -> None:
    expected = sm_acf(x, nlags=48, fft=False)
    assert _analyze(x).acf == pytest.approx(expected.tolist(), abs=1e-9)


@pytest.mark.parametrize("x", _random_series(), ids=lambda x: f"n{x.size}")
def test_adf_and_kpss_equal_statsmodels(x: np.ndarray) -> None:
    result = _analyze(x)
    # The analyzer caps ADF's lag search at 12, below Schwert's rule.
    maxlag = min(12, math.ceil(12 * (x.size / 100) ** 0.25))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adf_stat, adf_p, *_ = adfuller(x, maxlag=maxlag, regression="c", autolag="AIC")
        kpss_stat, kpss_p, *_ = kpss(x, regression="c", nlags="auto")
    assert result.adf is not None and result.kpss is not None
    assert result.adf.statistic == pytest.approx(adf_stat, rel=1e-9)
    assert result.adf.p_value == pytest.approx(adf_p, rel=1e-9)
    assert result.adf.stationary == (adf_p <= 0.05)
    assert result.kpss.statistic == pytest.approx(kpss_stat, rel=1e-9)
    assert result.kpss.p_value == pytest.approx(kpss_p, rel=1e-9)
    assert result.kpss.stationary == (kpss_p > 0.05)


def test_random_walk_fails_both_tests() -> None:
    result = _analyze(np.cumsum(np.random.default_rng(3).normal(size=500)))
    assert result.adf is not None and result.kpss is not None
    # A unit root: ADF cannot reject it and KPSS rejects stationarity.
    assert result.adf.p_value > 0.05
    assert not result.adf.stationary
    assert result.kpss.p_value <= 0.05
    assert result.stationarity == Stationarity.NON_STATIONARY


def test_white_noise_passes_both_tests() -> None:
    result = _analyze(np.random.default_rng(4).normal(size=288))
    assert result.adf is not None and result.kpss is not None
    assert result.adf.p_value < 0.05
    assert result.kpss.p_value > 0.05
    assert result.stationarity == Stationarity.STATIONARY


@pytest.mark.parametrize(
    ("adf", "kpss_", "verdict"),
    [
        (True, True, Stationarity.STATIONARY),
        (False, False, Stationarity.NON_STATIONARY),
        (False, True, Stationarity.TREND_STATIONARY),
        (True, False, Stationarity.DIFFERENCE_STATIONARY),
    ],
)
def test_verdict_combines_adf_and_kpss(
    adf: bool, kpss_: bool, verdict: Stationarity
) -> None:
    assert combine_verdict(adf, kpss_) == verdict


def test_a_failing_test_is_insufficient_data_with_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        def __init__(self, **_: object) -> None:
            pass

        def fit(self, _: object) -> None:
            raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setattr(sktime_module, "StationarityADF", Broken)
    result = _analyze(sine())
    assert result.stationarity == Stationarity.INSUFFICIENT_DATA
    assert result.reason == "LinAlgError: singular matrix"
    assert result.seasonality.period_seconds == 24 * 300
    assert len(result.acf) == 49


def _agreement_cases() -> list[list[float]]:
    gappy = sine(n=600, period=30, noise=0.5, seed=5)
    for i in (0, 1, 77, 78, 79, 300, 599):
        gappy[i] = NAN
    return [
        sine(),
        sine(n=1440, period=36, noise=1.0, seed=9),
        white_noise(500, seed=11),
        random_walk(300, seed=12),
        gappy,
        [v * 1e200 + 3e201 for v in sine(seed=13)],
    ]


@pytest.mark.parametrize("values", _agreement_cases())
def test_in_memory_agrees_with_sktime_on_acf_and_seasonality(
    values: list[float],
) -> None:
    fast = _analyze(values, SktimeMetadataAnalyzer())
    pure = _analyze(values, InMemoryMetadataAnalyzer())
    assert pure.acf == pytest.approx(fast.acf, abs=1e-9)
    assert pure.acf_significant_lags == fast.acf_significant_lags
    assert pure.seasonality.period_seconds == fast.seasonality.period_seconds
    assert pure.seasonality.strength == pytest.approx(fast.seasonality.strength)
    assert (pure.sample_count, pure.reason) == (fast.sample_count, fast.reason)


def test_in_memory_calls_a_seasonal_series_stationary() -> None:
    # Lag-1 ACF of a period-24 sine is cos(2π/24) ≈ 0.97, but it crosses zero.
    result = _analyze(sine(noise=0.0), InMemoryMetadataAnalyzer())
    assert result.acf[1] > 0.95
    assert result.stationarity == Stationarity.STATIONARY
    assert (result.adf, result.kpss) == (None, None)


@pytest.mark.parametrize("cls", [SktimeMetadataAnalyzer, InMemoryMetadataAnalyzer])
@pytest.mark.parametrize(
    "options", [{"max_lag": 0}, {"min_samples": 2}, {"significance": 1.0}]
)
def test_invalid_options_are_rejected(cls: Any, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        cls(**options)
