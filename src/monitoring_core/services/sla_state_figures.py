"""One objective's SLO state: its worst figures per window and horizon, and its series.

An objective's figure is that of its worst series for that figure: the lowest
SLI and remaining budget, the highest burn rate, bad slices and probability,
the soonest ETA (ADR 0043).
"""

from collections.abc import Callable, Iterable, Sequence

import attrs

from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_judgement import ObjectiveViolations
from monitoring_core.services.sla_predictions import (
    ObjectivePrediction,
    SeriesPrediction,
)
from monitoring_core.slo import Prediction, Status, WindowReport


@attrs.frozen(kw_only=True)
class WindowFigures:
    """SLI, budget and burn rate of one window (None: nothing measured)."""

    window_seconds: int
    sli: float | None
    budget_remaining: float | None
    burn_rate: float | None
    above_slices: int
    below_slices: int


@attrs.frozen(kw_only=True)
class PredictedFigures:
    """What the forecast says about the horizon.

    Attributes:
        horizon_seconds: how far ahead.
        bad_slice_probability: of at least one bad slice within the horizon.
        eta_seconds: from the refresh to the start of the ETA slice (0 when
            it has begun); None when no slice is likely enough.
        expected_bad_slices: the sum of the slice probabilities.
    """

    horizon_seconds: int
    bad_slice_probability: float
    eta_seconds: float | None
    expected_bad_slices: float


@attrs.frozen(kw_only=True)
class SeriesState:
    """One series of an objective."""

    series: SeriesKey
    windows: tuple[WindowFigures, ...]
    predicted: PredictedFigures | None
    status: Status


@attrs.frozen(kw_only=True)
class ObjectiveState:
    """One objective of an SLA: its worst figures, and its series under the cap.

    Attributes:
        objective: the label value: the objective's index in the SLA.
        windows: one per window, the default ones then the compliance window.
        predicted: None when no series has a usable forecast.
        status: the worst series status.
        series_count: the series the selector matched.
        series: per series, empty when there are more than the cap.
    """

    objective: str
    windows: tuple[WindowFigures, ...]
    predicted: PredictedFigures | None
    status: Status
    series_count: int
    series: tuple[SeriesState, ...]


def _worst(values: Iterable[float | None], pick: Callable[..., float]) -> float | None:
    known = [v for v in values if v is not None]
    return pick(known) if known else None


def window_figures(window_seconds: int, report: WindowReport) -> WindowFigures:
    """The figures of one series' window report."""
    return WindowFigures(
        window_seconds=window_seconds,
        sli=report.sli,
        budget_remaining=report.budget_remaining,
        burn_rate=report.burn_rate,
        above_slices=report.above_slices,
        below_slices=report.below_slices,
    )


def worst_window(window_seconds: int, series: Sequence[WindowFigures]) -> WindowFigures:
    """An objective's window: the worst of its series, figure by figure."""
    return WindowFigures(
        window_seconds=window_seconds,
        sli=_worst((s.sli for s in series), min),
        budget_remaining=_worst((s.budget_remaining for s in series), min),
        burn_rate=_worst((s.burn_rate for s in series), max),
        above_slices=max((s.above_slices for s in series), default=0),
        below_slices=max((s.below_slices for s in series), default=0),
    )


def predicted_figures(
    prediction: Prediction, horizon_seconds: int, now: float
) -> PredictedFigures:
    """A series' prediction as figures; the ETA counted from ``now``."""
    eta = prediction.eta
    return PredictedFigures(
        horizon_seconds=horizon_seconds,
        bad_slice_probability=prediction.within_horizon,
        eta_seconds=None if eta is None else max(0.0, eta.start - now),
        expected_bad_slices=prediction.expected_bad_slices,
    )


def worst_predicted(series: Sequence[PredictedFigures]) -> PredictedFigures | None:
    """An objective's prediction: the worst of its series, figure by figure."""
    if not series:
        return None
    return PredictedFigures(
        horizon_seconds=series[0].horizon_seconds,
        bad_slice_probability=max(s.bad_slice_probability for s in series),
        eta_seconds=_worst((s.eta_seconds for s in series), min),
        expected_bad_slices=max(s.expected_bad_slices for s in series),
    )


def _series_state(
    key: SeriesKey,
    windows: Sequence[WindowFigures],
    predicted: SeriesPrediction | None,
    horizon: int,
    now: float,
) -> SeriesState:
    if predicted is None:  # no sample in the compliance window
        return SeriesState(
            series=key,
            windows=tuple(windows),
            predicted=None,
            status=Status.INSUFFICIENT_DATA,
        )
    prediction = predicted.prediction
    return SeriesState(
        series=key,
        windows=tuple(windows),
        predicted=None
        if prediction is None
        else predicted_figures(prediction, horizon, now),
        status=predicted.status,
    )


def _figures_by_series(
    past: ObjectiveViolations, future: ObjectivePrediction
) -> dict[SeriesKey, list[WindowFigures]]:
    """Each series' windows: the past ones, then the compliance window.

    The compliance window (judged by the prediction) is left out when a past
    window is as long.
    """
    found: dict[SeriesKey, list[WindowFigures]] = {}
    for window in past.windows:
        for judged in window.series:
            found.setdefault(judged.series, []).append(
                window_figures(window.window_seconds, judged.report)
            )
    compliance = future.objective.window_seconds
    if all(w.window_seconds != compliance for w in past.windows):
        for s in future.series:
            found.setdefault(s.series, []).append(
                window_figures(compliance, s.compliance)
            )
    return found


def objective_state(
    past: ObjectiveViolations,
    future: ObjectivePrediction,
    now: float,
    series_cap: int,
) -> ObjectiveState:
    """One objective's state from its violations and its prediction."""
    figures = _figures_by_series(past, future)
    predicted = {s.series: s for s in future.series}
    states = [
        _series_state(
            key, figures[key], predicted.get(key), future.horizon_seconds, now
        )
        for key in sorted(figures, key=lambda k: k.canonical)
    ]
    lengths = dict.fromkeys(f.window_seconds for s in states for f in s.windows)
    return ObjectiveState(
        objective=str(future.index),
        windows=tuple(
            worst_window(
                length,
                [f for s in states for f in s.windows if f.window_seconds == length],
            )
            for length in lengths
        ),
        predicted=worst_predicted([s.predicted for s in states if s.predicted]),
        status=future.status,
        series_count=len(states),
        series=tuple(states) if len(states) <= series_cap else (),
    )
