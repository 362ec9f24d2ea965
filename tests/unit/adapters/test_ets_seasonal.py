"""The seasonal candidate fed by a longer, coarser history (ADR 0050)."""

from datetime import UTC, datetime

import numpy as np

from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.forecasting.seasonal import profile_of
from monitoring_core.metadata import SeasonalHistory
from monitoring_core.series import SeriesHistory, SeriesKey

H = 10
AT = datetime(2024, 1, 1, tzinfo=UTC)
PERIOD = 12 * 3600  # longer than the 6 h forecast history
END = 1_700_006_400.0  # the forecast history's last step


def _cycle(times: np.ndarray) -> np.ndarray:
    phase = 2 * np.pi * times / PERIOD
    return 100 + 20 * np.sin(phase) + 8 * np.sin(6 * phase)


def _histories(seed: int) -> tuple[SeriesHistory, SeasonalHistory]:
    rng = np.random.default_rng(seed)
    key = SeriesKey.of("cycle", {"seed": str(seed)})
    fine_times = END - 60 * np.arange(359, -1, -1)
    fine = _cycle(fine_times) + rng.normal(0, 0.5, fine_times.size)
    coarse_times = END - 300 * np.arange(3 * PERIOD // 300 + 72, -1, -1)
    coarse = _cycle(coarse_times) + rng.normal(0, 0.5, coarse_times.size)
    history = SeriesHistory(
        series=key,
        start=float(fine_times[0]),
        step_seconds=60,
        values=tuple(fine.tolist()),
    )
    seasonal = SeasonalHistory(
        history=SeriesHistory(
            series=key,
            start=float(coarse_times[0]),
            step_seconds=300,
            values=tuple(coarse.tolist()),
        ),
        period_seconds=PERIOD,
    )
    return history, seasonal


def test_a_cycle_longer_than_the_history_is_forecast_from_the_coarse_one() -> None:
    pairs = [_histories(seed) for seed in range(4)]
    histories = [h for h, _ in pairs]
    seasonal = {h.series.id: s for h, s in pairs}
    engine = VectorizedEtsForecaster()
    with_season = engine.forecast(histories, H, AT, {}, seasonal)
    without = engine.forecast(histories, H, AT, {})
    truth = _cycle(END + 60 * np.arange(1, H + 1))
    errors = []
    for a, b in zip(with_season, without, strict=True):
        assert a.model == "seasonal_ses"
        assert b.model != "seasonal_ses"
        errors.append(
            [np.abs([p.mean for p in f.points] - truth).mean() for f in (a, b)]
        )
    error_with, error_without = np.mean(errors, axis=0)
    assert error_with < 0.75 * error_without


def test_the_profile_only_reads_the_coarse_steps_before_the_cut() -> None:
    _, seasonal = _histories(0)
    values = np.array(seasonal.history.values)
    times = seasonal.history.start + 300 * np.arange(values.size)
    cut = float(times[-72])  # the last 6 h left out
    spoiled = SeasonalHistory(
        history=SeriesHistory(
            series=seasonal.history.series,
            start=seasonal.history.start,
            step_seconds=300,
            values=tuple(np.where(times >= cut, 1e6, values).tolist()),
        ),
        period_seconds=PERIOD,
    )
    before, after = profile_of(seasonal, cut), profile_of(spoiled, cut)
    assert before is not None and after is not None
    np.testing.assert_array_equal(before, after)
    assert profile_of(spoiled, np.inf) is not None
    assert float(np.ptp(before)) > 40  # the cycle's swing, not a flat line


def test_too_short_a_coarse_history_gives_no_profile() -> None:
    _, seasonal = _histories(0)
    short = SeasonalHistory(
        history=SeriesHistory(
            series=seasonal.history.series,
            start=END - 300 * 100,
            step_seconds=300,
            values=seasonal.history.values[-101:],
        ),
        period_seconds=PERIOD,
    )
    assert profile_of(short, np.inf) is None
