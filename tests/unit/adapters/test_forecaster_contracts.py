"""The forecasting engines: the shared contract plus engine-specific behaviour."""

import math
from itertools import pairwise

import numpy as np
import pytest

from adapters.forecasting import ets_filters
from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.forecasting.sktime_forecaster import SktimeForecaster
from adapters.in_memory.forecaster import InMemoryForecaster
from monitoring_core.metadata import SeriesMetadata, Stationarity
from monitoring_core.ports import Forecaster
from tests.contracts.forecaster_contract import (
    AT,
    NAN,
    ForecasterContract,
    H,
    assert_well_formed,
    history,
    line,
    noisy_level,
    random_walk,
)


class TestVectorizedEts(ForecasterContract):
    min_points = 20  # short histories get a shorter hold-out

    def make_forecaster(self) -> Forecaster:
        return VectorizedEtsForecaster()

    def test_overflowing_series_is_dropped_not_returned_as_inf(self) -> None:
        huge = history([1e200 * (-1) ** t for t in range(60)], "huge")
        fine = history(random_walk(), "fine")
        forecasts = self.run([huge, fine])
        assert [f.series.name for f in forecasts] == ["fine"]

    def test_models_are_chosen_per_series(self) -> None:
        sources = [
            history([4.0] * 80, "flat"),
            history(line(), "trend"),
            history(random_walk(n=200, seed=3), "walk"),
        ]
        models = {f.series.name: f.model for f in self.run(sources)}
        assert models["flat"] == "mean"
        assert models["trend"] == "holt_damped"
        assert models["walk"] in {"ses", "holt_damped"}

    def test_stationary_metadata_rules_out_the_trend_model(self) -> None:
        source = history(line())
        hint = SeriesMetadata(
            series=source.series,
            computed_at=AT,
            lookback_seconds=86_400,
            step_seconds=60,
            sample_count=80,
            stationarity=Stationarity.STATIONARY,
        )
        hinted = VectorizedEtsForecaster().forecast(
            [source], H, AT, {source.series.id: hint}
        )
        ignored = VectorizedEtsForecaster(use_metadata=False).forecast(
            [source], H, AT, {source.series.id: hint}
        )
        assert hinted[0].model == "ses"
        assert ignored[0].model == "holt_damped"

    def test_same_result_in_one_batch_in_chunks_or_alone(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        sources = [history(random_walk(seed=s), f"s{s}") for s in range(30)]
        sources += [
            history([NAN] * 9 + noisy_level(n=40 + s, seed=s), f"n{s}")
            for s in range(30)
        ]
        whole = self.run(sources)
        monkeypatch.setattr(ets_filters, "CHUNK_ELEMENTS", 50)
        chunked = self.run(sources)
        single = [f for s in sources for f in self.run([s])]
        assert len(whole) == 60
        for a, b, c in zip(whole, chunked, single, strict=True):
            assert a.model == b.model == c.model
            assert a.points == b.points
            np.testing.assert_allclose(
                [p.upper_95 for p in a.points],
                [p.upper_95 for p in c.points],
                rtol=1e-12,
            )

    def test_trailing_gap_widens_the_intervals(self) -> None:
        # Rolling-origin calibration needs the last step observed; a trailing
        # gap falls back to the model's intervals, which reach over the gap.
        values = random_walk(n=100, seed=0)
        complete = self.one(history(values))
        gapped = self.one(history(values[:-4] + [NAN] * 4))
        assert complete.window_max is not None
        assert gapped.window_max is None
        assert gapped.model == "ses"
        w_gap = [p.upper_95 - p.lower_95 for p in gapped.points]
        nearest = gapped.points[0]
        # The first point is 5 steps past the last value: wider than the
        # calibrated 1-step interval, about as wide as the calibrated 5-step one.
        assert w_gap[0] > complete.points[0].upper_95 - complete.points[0].lower_95
        assert nearest.lower_95 < nearest.mean < nearest.upper_95
        assert all(b > a for a, b in pairwise(w_gap))
        # Without a trend the gap leaves the point forecast at the last level.
        assert gapped.predicted_min == gapped.predicted_max


class TestInMemoryForecaster(ForecasterContract):
    model_names = frozenset({"naive", "drift"})

    def make_forecaster(self) -> Forecaster:
        return InMemoryForecaster()

    def test_constant_is_naive_and_trend_is_drift(self) -> None:
        sources = [history([4.0] * 80, "flat"), history(line(), "trend")]
        models = {f.series.name: f.model for f in self.run(sources)}
        assert models == {"flat": "naive", "trend": "drift"}

    @pytest.mark.parametrize(("seed", "model"), [(3, "naive"), (9, "drift")])
    def test_intervals_are_random_walk_intervals(self, seed: int, model: str) -> None:
        values = random_walk(seed=seed)
        forecast = self.one(history(values))
        assert forecast.model == model
        span = len(values) - 1  # steps the drift is estimated over
        widths = [p.upper_80 - p.lower_80 for p in forecast.points]
        for h, width in enumerate(widths, start=1):
            # sqrt(h), times sqrt(1 + h / T) for the drift's estimation error.
            growth = h * (1 + h / span if model == "drift" else 1)
            grown = widths[0] * math.sqrt(
                growth / (1 + 1 / span if model == "drift" else 1)
            )
            assert math.isclose(width, grown, rel_tol=1e-12)

    def test_naive_numbers_by_hand(self) -> None:
        values = random_walk(seed=3)
        forecast = self.one(history(values))
        assert forecast.model == "naive"
        steps = np.diff(values)
        sigma = math.sqrt(np.mean(steps**2))
        held_out = np.mean(np.abs(np.array(values[-H:]) - values[-H - 1]))
        assert math.isclose(forecast.holdout_mae, held_out, rel_tol=1e-12)
        first = forecast.points[0]
        assert all(p.mean == values[-1] for p in forecast.points)
        assert math.isclose(first.upper_95 - first.mean, 1.959963984540054 * sigma)

    def test_overflowing_series_is_dropped(self) -> None:
        huge = history([1e200 * (-1) ** t for t in range(60)], "huge")
        assert self.run([huge]) == []


class TestSktimeForecaster(ForecasterContract):
    def make_forecaster(self) -> Forecaster:
        return SktimeForecaster()

    def test_models_use_the_vectorised_engines_names(self) -> None:
        sources = [history([4.0] * 60, "flat"), history(line(n=60), "trend")]
        models = {f.series.name: f.model for f in self.run(sources)}
        assert models == {"flat": "mean", "trend": "holt_damped"}


def test_engines_agree_roughly_on_a_random_walk() -> None:
    source = history(random_walk(n=120, seed=11))
    engines = [VectorizedEtsForecaster(), SktimeForecaster(), InMemoryForecaster()]
    results = [e.forecast([source], H, AT, {})[0] for e in engines]
    for result in results:
        assert_well_formed(result, source)
    last = source.values[-1]
    for result in results:
        assert abs(result.points[0].mean - last) < 3
