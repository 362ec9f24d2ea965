"""Behaviour every MetadataAnalyzer must show, whatever computes it."""

import math
import random
from datetime import UTC, datetime
from statistics import NormalDist

from monitoring_core.metadata import SeriesMetadata, Stationarity
from monitoring_core.ports import MetadataAnalyzer
from monitoring_core.series import SeriesHistory, SeriesKey

STEP = 300
AT = datetime(2024, 5, 1, tzinfo=UTC)
NAN = float("nan")


def history(values: list[float], name: str = "s", step: int = STEP) -> SeriesHistory:
    """A history of ``values`` on a grid starting at a fixed time."""
    return SeriesHistory(
        series=SeriesKey.of(name, {"job": "test"}),
        start=1_714_521_600.0,
        step_seconds=step,
        values=tuple(values),
    )


def sine(
    n: int = 288, period: int = 24, noise: float = 0.1, seed: int = 0
) -> list[float]:
    """A unit sine with the given period in steps plus Gaussian noise."""
    rng = random.Random(seed)
    return [math.sin(2 * math.pi * i / period) + rng.gauss(0, noise) for i in range(n)]


def white_noise(n: int = 288, seed: int = 1) -> list[float]:
    """Independent standard normal values."""
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(n)]


def random_walk(n: int = 500, seed: int = 4) -> list[float]:
    """Cumulative sum of standard normal steps."""
    rng = random.Random(seed)
    out, level = [], 0.0
    for _ in range(n):
        level += rng.gauss(0, 1)
        out.append(level)
    return out


class MetadataAnalyzerContract:
    """Behaviour tests; subclasses named ``Test...`` provide ``make_analyzer``."""

    def make_analyzer(
        self, *, max_lag: int = 48, min_samples: int = 30
    ) -> MetadataAnalyzer:
        """The analyzer under test, built with these options."""
        raise NotImplementedError

    def analyze_one(self, values: list[float], **options: int) -> SeriesMetadata:
        [result] = self.make_analyzer(**options).analyze([history(values)], AT)
        return result

    def test_sine_with_period_24_steps_is_seasonal(self) -> None:
        result = self.analyze_one(sine())
        assert result.seasonality.period_seconds == 24 * STEP
        assert result.seasonality.strength is not None
        assert result.seasonality.strength > 0.8
        assert 24 in result.acf_significant_lags
        assert result.reason is None

    def test_period_follows_the_grid_step(self) -> None:
        [result] = self.make_analyzer().analyze([history(sine(), step=60)], AT)
        assert result.seasonality.period_seconds == 24 * 60
        assert result.step_seconds == 60

    def test_white_noise_is_stationary_without_seasonality(self) -> None:
        result = self.analyze_one(white_noise())
        assert result.seasonality.period_seconds is None
        assert result.seasonality.strength is None
        assert result.stationarity == Stationarity.STATIONARY

    def test_random_walk_is_non_stationary(self) -> None:
        result = self.analyze_one(random_walk())
        assert result.stationarity == Stationarity.NON_STATIONARY
        assert result.seasonality.period_seconds is None

    def test_fewer_than_two_periods_are_not_seasonal(self) -> None:
        # Without the rule lag 24 would win here (ACF 0.5); 47 < 2 * 24.
        result = self.analyze_one(sine(n=47, period=24, noise=0.0))
        assert result.stationarity != Stationarity.INSUFFICIENT_DATA
        assert result.seasonality.period_seconds is None

    def test_insufficient_data_has_a_reason_and_no_statistics(self) -> None:
        cases = {
            "no samples": [],
            "constant": [3.5] * 100,
            "only 10 samples, need 30": white_noise(10),
        }
        analyzer = self.make_analyzer()
        results = analyzer.analyze([history(v) for v in cases.values()], AT)
        for reason, result in zip(cases, results, strict=True):
            assert result.stationarity == Stationarity.INSUFFICIENT_DATA
            assert result.reason is not None
            assert reason in result.reason
            assert (result.acf, result.adf, result.kpss) == ((), None, None)
            assert result.seasonality.period_seconds is None

    def test_all_missing_means_no_samples(self) -> None:
        result = self.analyze_one([NAN] * 288)
        assert result.stationarity == Stationarity.INSUFFICIENT_DATA
        assert result.reason == "no samples"
        assert result.sample_count == 0

    def test_more_than_half_missing_is_insufficient(self) -> None:
        values = [v if i % 3 == 0 else NAN for i, v in enumerate(sine())]
        result = self.analyze_one(values)
        assert result.stationarity == Stationarity.INSUFFICIENT_DATA
        assert result.reason is not None
        assert "missing" in result.reason
        assert result.sample_count == 96

    def test_interior_gaps_are_interpolated_and_edges_dropped(self) -> None:
        values = sine()
        for i in [*range(0, 10), *range(100, 104), 150, *range(280, 288)]:
            values[i] = NAN
        result = self.analyze_one(values)
        assert result.sample_count == 288 - 23
        assert result.seasonality.period_seconds == 24 * STEP

    def test_degenerate_values_never_raise(self) -> None:
        inf = float("inf")
        cases = [
            [1.0],
            [inf] * 50,
            [*white_noise(100)[:50], inf, -inf, *white_noise(100)[50:]],
            [v * 1e300 for v in sine()],
            [v * 1e-300 for v in sine()],
            [0.0] * 99 + [1.0],
            [1e308, -1e308] * 50,
        ]
        results = self.make_analyzer().analyze([history(v) for v in cases], AT)
        assert len(results) == len(cases)
        assert results[0].reason == "only 1 samples, need 30"
        assert results[1].reason == "no samples"
        assert results[2].sample_count == 100
        for scaled in results[3:5]:
            assert scaled.seasonality.period_seconds == 24 * STEP
        for result in results[2:]:
            assert all(math.isfinite(r) for r in result.acf)

    def test_acf_has_max_lag_plus_one_values_starting_at_one(self) -> None:
        result = self.analyze_one(white_noise(200), max_lag=36)
        assert len(result.acf) == 37
        assert result.acf[0] == 1.0
        assert all(abs(r) <= 1.0 + 1e-12 for r in result.acf)

    def test_significant_lags_are_outside_the_white_noise_band(self) -> None:
        values = sine(noise=1.0)
        result = self.analyze_one(values)
        band = NormalDist().inv_cdf(0.975) / math.sqrt(len(values))
        expected = tuple(k for k in range(1, 49) if abs(result.acf[k]) > band)
        assert result.acf_significant_lags == expected
        assert expected

    def test_one_result_per_history_in_input_order(self) -> None:
        inputs = [sine(), [], white_noise(), [2.0] * 50, random_walk()]
        histories = [history(v, name=f"m{i}") for i, v in enumerate(inputs)]
        results = self.make_analyzer().analyze(histories, AT)
        assert [r.series for r in results] == [h.series for h in histories]
        assert [r.sample_count for r in results] == [288, 0, 288, 50, 500]

    def test_grid_and_time_are_recorded(self) -> None:
        # A grid of n steps spans (n - 1) steps: start and end are inclusive.
        result = self.analyze_one(sine(n=289))
        assert result.computed_at == AT
        assert result.step_seconds == STEP
        assert result.lookback_seconds == 288 * STEP
        [empty] = self.make_analyzer().analyze([history([])], AT)
        assert empty.lookback_seconds == 0

    def test_no_histories_give_no_results(self) -> None:
        assert self.make_analyzer().analyze([], AT) == []
