"""Behaviour every Forecaster must show, whatever engine computes it."""

import math
import random
from datetime import UTC, datetime
from itertools import pairwise

from monitoring_core.forecasts import Forecast
from monitoring_core.ports import Forecaster
from monitoring_core.series import SeriesHistory, SeriesKey

STEP = 60
H = 10
AT = datetime(2024, 5, 1, tzinfo=UTC)
START = 1_714_521_600.0
NAN = float("nan")


def history(values: list[float], name: str = "s", step: int = STEP) -> SeriesHistory:
    """A history of ``values`` on a grid starting at a fixed time."""
    return SeriesHistory(
        series=SeriesKey.of(name, {"job": "test"}),
        start=START,
        step_seconds=step,
        values=tuple(values),
    )


def noisy_level(n: int = 80, seed: int = 0, level: float = 50.0) -> list[float]:
    """An AR(1) process (coefficient 0.5) around a level."""
    rng, x, out = random.Random(seed), 0.0, []
    for _ in range(n):
        x = 0.5 * x + rng.gauss(0, 1)
        out.append(level + x)
    return out


def random_walk(n: int = 80, seed: int = 1) -> list[float]:
    """Cumulative sum of standard normal steps, starting at 100."""
    rng, level, out = random.Random(seed), 100.0, []
    for _ in range(n):
        level += rng.gauss(0, 1)
        out.append(level)
    return out


def line(n: int = 80, seed: int = 2) -> list[float]:
    """``3 + 0.5 t`` plus tiny Gaussian noise."""
    rng = random.Random(seed)
    return [3 + 0.5 * t + rng.gauss(0, 0.01) for t in range(n)]


def assert_well_formed(forecast: Forecast, source: SeriesHistory) -> None:
    """Horizon, timestamps, finite values, nested intervals, summary stats."""
    assert forecast.series == source.series
    assert forecast.made_at == AT
    assert forecast.step_seconds == source.step_seconds
    assert [p.timestamp for p in forecast.points] == [
        source.end + i * source.step_seconds for i in range(1, H + 1)
    ]
    assert math.isfinite(forecast.holdout_mae)
    assert forecast.holdout_mae >= 0
    for p in forecast.points:
        bounds = [p.lower_95, p.lower_80, p.mean, p.upper_80, p.upper_95]
        assert all(math.isfinite(b) for b in bounds)
        assert bounds == sorted(bounds)
    means = [p.mean for p in forecast.points]
    low, high = forecast.window_min, forecast.window_max
    if low is None or high is None:  # no distributions: the point path's
        assert forecast.predicted_min == min(means)
        assert forecast.predicted_max == max(means)
    else:
        assert forecast.predicted_min == low.median
        assert forecast.predicted_max == high.median
        assert_bands_consistent(forecast)
    assert math.isclose(forecast.predicted_avg, sum(means) / H, rel_tol=1e-12)
    # fsum(n * [x]) / n may be x plus one ulp: compare with a relative margin.
    margin = 1e-12 * max(1.0, abs(forecast.predicted_avg))
    assert forecast.predicted_min - margin <= forecast.predicted_avg
    assert forecast.predicted_avg <= forecast.predicted_max + margin


def assert_bands_consistent(forecast: Forecast) -> None:
    """Ordered quantiles; the running max never below the value, nor falling."""
    previous_high = previous_low = None
    for p in forecast.points:
        assert p.running_max is not None and p.running_min is not None
        value = (p.lower_95, p.lower_80, p.mean, p.upper_80, p.upper_95)
        high, low = p.running_max.quantiles(), p.running_min.quantiles()
        assert list(high) == sorted(high) and list(low) == sorted(low)
        assert all(h >= v >= lo for h, v, lo in zip(high, value, low, strict=True))
        if previous_high is not None and previous_low is not None:
            assert all(a <= b for a, b in zip(previous_high, high, strict=True))
            assert all(a >= b for a, b in zip(previous_low, low, strict=True))
        previous_high, previous_low = high, low
    average = forecast.average
    if average is not None:
        assert list(average.quantiles()) == sorted(average.quantiles())


class ForecasterContract:
    """Behaviour tests; subclasses named ``Test...`` provide ``make_forecaster``.

    Attributes:
        model_names: the model vocabulary the engine may report.
        min_points: the fewest observed values the engine forecasts at
            horizon ``H``; every engine forecasts ``2 * H + 10`` (a hold-out
            as long as the horizon), some fewer (a shorter hold-out).
    """

    model_names: frozenset[str] = frozenset(
        {"mean", "ses", "holt_damped", "mean_ses", "mean_ses_holt"}
    )
    min_points: int = 2 * H + 10

    def make_forecaster(self) -> Forecaster:
        """The forecaster under test."""
        raise NotImplementedError

    def run(self, histories: list[SeriesHistory]) -> list[Forecast]:
        return self.make_forecaster().forecast(histories, H, AT, {})

    def one(self, source: SeriesHistory) -> Forecast:
        [forecast] = self.run([source])
        assert_well_formed(forecast, source)
        assert forecast.model in self.model_names
        return forecast

    def test_one_forecast_per_history_with_enough_data(self) -> None:
        assert self.min_points <= 2 * H + 10
        good = [
            history(noisy_level(seed=3), "a"),
            history(random_walk(), "b"),
            history(noisy_level(n=self.min_points, seed=4), "c_shortest"),
        ]
        bad = [
            history(noisy_level(n=self.min_points - 1), "short"),
            history([NAN] * 80, "all_nan"),
            history([], "empty"),
            history([*noisy_level(n=80)[:40], *[NAN] * 40], "sparse"),
        ]
        forecasts = self.run(
            [bad[0], good[0], bad[1], good[1], bad[2], good[2], bad[3]]
        )
        assert sorted(f.series.name for f in forecasts) == ["a", "b", "c_shortest"]
        for f in forecasts:
            assert_well_formed(f, next(g for g in good if g.series == f.series))

    def test_nothing_to_forecast_gives_nothing(self) -> None:
        assert self.run([]) == []

    def test_points_follow_the_grid_of_each_history(self) -> None:
        sources = [
            history(random_walk(), "a", step=60),
            history(random_walk(n=60), "b", step=300),
        ]
        forecasts = {f.series: f for f in self.run(sources)}
        for source in sources:
            assert_well_formed(forecasts[source.series], source)

    def test_constant_series_is_forecast_as_that_constant(self) -> None:
        forecast = self.one(history([7.25] * 60))
        for p in forecast.points:
            assert p.mean == p.lower_95 == p.upper_95 == 7.25
        assert forecast.holdout_mae == 0

    def test_linear_trend_is_continued(self) -> None:
        values = line()
        forecast = self.one(history(values))
        for i, p in enumerate(forecast.points, start=1):
            expected = 3 + 0.5 * (len(values) - 1 + i)
            # Damped trends fall a little short: allow 25 % of the rise.
            assert abs(p.mean - expected) <= 0.25 * 0.5 * i + 0.05

    def test_intervals_widen_or_stay_with_the_horizon(self) -> None:
        forecast = self.one(history(random_walk(seed=5)))
        widths = [p.upper_95 - p.lower_95 for p in forecast.points]
        assert widths[0] > 0
        assert all(b >= a - 1e-9 for a, b in pairwise(widths))

    def test_level_series_is_forecast_near_its_level(self) -> None:
        forecast = self.one(history(noisy_level(n=120, seed=7)))
        assert 45 < forecast.predicted_min <= forecast.predicted_max < 55
        assert 0 < forecast.holdout_mae < 5

    def test_missing_values_in_the_middle_are_tolerated(self) -> None:
        values = random_walk(seed=8)
        for i in (5, 17, 18, 19, 40, 41, 66):
            values[i] = NAN
        self.one(history(values))

    def test_missing_values_at_both_ends_are_tolerated(self) -> None:
        values = [NAN] * 7 + line()[:70] + [NAN] * 3
        forecast = self.one(history(values))
        # The last observed step is 76, the first forecast is for step 80.
        expected = 3 + 0.5 * (69 + 4)
        assert abs(forecast.points[0].mean - expected) < 0.5

    def test_every_returned_number_is_finite(self) -> None:
        sources = [
            history([1e200 * (-1) ** t for t in range(60)], "huge"),
            history([1e-300 * t for t in range(60)], "tiny"),
            history([-5.0 - v for v in random_walk()], "negative"),
        ]
        for forecast in self.run(sources):
            source = next(s for s in sources if s.series == forecast.series)
            assert_well_formed(forecast, source)
