"""The SLA manager's SLO state: every SLA's figures, refreshed and kept for scrapes.

One refresh judges every SLA through the same use cases as ``GetViolations``
(:class:`SlaJudgement`) and ``Predict`` (:class:`PredictionService`) and keeps
the result as an immutable snapshot; ``/metrics`` shows the last snapshot
(ADR 0043). An objective's figure is that of its worst series for that figure:
the lowest SLI and remaining budget, the highest burn rate, bad slices and
probability, the soonest ETA. Per-series figures are kept only for objectives
matching at most ``series_cap`` series, so the number of label sets is bounded.
"""

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import attrs

from monitoring_core.errors import MonitoringError, SlaNotFound
from monitoring_core.ports import Clock
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import (
    DEFAULT_WINDOWS,
    ObjectiveViolations,
    SlaJudgement,
)
from monitoring_core.services.sla_predictions import (
    DEFAULT_HORIZON,
    ObjectivePrediction,
    PredictionService,
    SeriesPrediction,
)
from monitoring_core.slo import Prediction, Status, WindowReport

log = logging.getLogger(__name__)


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


@attrs.frozen(kw_only=True)
class SlaState:
    """Every objective of one SLA."""

    sla: str
    objectives: tuple[ObjectiveState, ...]


@attrs.frozen(kw_only=True)
class StateSnapshot:
    """What ``/metrics`` shows: the last values of every SLA.

    Attributes:
        slas: by name; an SLA whose refresh failed keeps its last values.
        refreshed_at: the end of the last refresh in which every SLA
            succeeded; None before the first.
        duration_seconds: how long the last refresh took.
        failures: refreshes that failed since the start.
    """

    slas: tuple[SlaState, ...] = ()
    refreshed_at: datetime | None = None
    duration_seconds: float | None = None
    failures: int = 0


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


class SlaStateService:
    """Refreshes the SLO state of every SLA and keeps the last snapshot.

    A refresh that fails (a dependency down) keeps each failed SLA's last
    values and leaves ``refreshed_at`` alone, so staleness shows; it logs one
    line when refreshes start failing and one when they recover. A deleted SLA
    is gone from the next snapshot.

    Args:
        definitions, judgement, predictions: the SLA manager's use cases.
        clock: stamps a successful refresh.
        windows: the past windows of every objective, in seconds.
        horizon_seconds: the prediction horizon.
        series_cap: per-series figures only for objectives matching at most
            this many series (0: objective level only).
    """

    def __init__(
        self,
        definitions: SlaDefinitions,
        judgement: SlaJudgement,
        predictions: PredictionService,
        clock: Clock,
        windows: Sequence[int] = DEFAULT_WINDOWS,
        horizon_seconds: int = DEFAULT_HORIZON,
        series_cap: int = 0,
    ) -> None:
        self._definitions = definitions
        self._judgement = judgement
        self._predictions = predictions
        self._clock = clock
        self._windows = tuple(windows)
        self._horizon = horizon_seconds
        self._cap = series_cap
        self._failing = False
        self.snapshot = StateSnapshot()
        """The last snapshot; replaced whole, so readers need no lock."""

    def refresh(self) -> bool:
        """Judge and predict every SLA now; whether every SLA succeeded."""
        started = time.perf_counter()
        last = {s.sla: s for s in self.snapshot.slas}
        try:
            names = [sla.name for sla in self._definitions.list_slas()]
        except MonitoringError as exc:
            errors = [f"listing the SLAs: {exc}"]
            self._publish(list(last.values()), errors, time.perf_counter() - started)
            return False
        errors = []
        states: list[SlaState] = []
        for name in names:
            try:
                states.append(self.sla_state(name))
            except SlaNotFound:
                continue  # deleted since the listing
            except MonitoringError as exc:
                errors.append(f"{name}: {exc}")
                if name in last:
                    states.append(last[name])
        self._publish(states, errors, time.perf_counter() - started)
        return not errors

    def sla_state(self, name: str) -> SlaState:
        """The state of one SLA now.

        Raises:
            SlaNotFound: no such SLA.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        past = self._judgement.violations(name, self._windows)
        report = self._predictions.predict(name, self._horizon)
        now = report.at.timestamp()
        return SlaState(
            sla=name,
            objectives=tuple(
                objective_state(p, f, now, self._cap)
                # Both read the SLA; one changed in between is right next time.
                for p, f in zip(past, report.objectives, strict=False)
            ),
        )

    def _publish(self, states: list[SlaState], errors: list[str], took: float) -> None:
        before = self.snapshot
        failed = bool(errors)
        self.snapshot = StateSnapshot(
            slas=tuple(sorted(states, key=lambda s: s.sla)),
            refreshed_at=before.refreshed_at if failed else self._clock.now(),
            duration_seconds=took,
            failures=before.failures + failed,
        )
        if failed and not self._failing:
            log.warning(
                "SLO state refresh failing, keeping the last values: %s",
                "; ".join(errors),
            )
        elif not failed and self._failing:
            log.info("SLO state refresh recovered")
        self._failing = failed
