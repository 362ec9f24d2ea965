"""The SLA manager's use cases: store SLAs, judge them, predict their breaches."""

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from monitoring_core.errors import InvalidSla, MonitoringError, SlaNotFound
from monitoring_core.ports import (
    Clock,
    ForecastLookup,
    MetricSource,
    PredictionLog,
    SampleSource,
    SlaRepository,
)
from monitoring_core.prediction_scores import (
    PredictionRecord,
    PredictionScore,
    score_predictions,
)
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesKey, SeriesSamples
from monitoring_core.sla import (
    Objective,
    Sla,
    SlaDraft,
    SlaLimits,
    next_version,
    validate_sla,
)
from monitoring_core.slo import (
    Prediction,
    Slice,
    Status,
    WindowReport,
    evaluate_window,
    objective_status,
    predict,
    slice_samples,
    worst_status,
)
from monitoring_core.value_domains import history_domain

log = logging.getLogger(__name__)
DEFAULT_WINDOWS = (3600, 3 * 3600, 12 * 3600)
DEFAULT_HORIZON = 600


@attrs.frozen(kw_only=True)
class SeriesWindow:
    """One series judged over one window."""

    series: SeriesKey
    report: WindowReport


@attrs.frozen(kw_only=True)
class WindowViolations:
    """Every matched series of one objective over one window."""

    window_seconds: int
    start: datetime
    end: datetime
    series: tuple[SeriesWindow, ...]


@attrs.frozen(kw_only=True)
class ObjectiveViolations:
    """An objective's past violations, window by window."""

    index: int
    objective: Objective
    windows: tuple[WindowViolations, ...]


@attrs.frozen(kw_only=True)
class SeriesPrediction:
    """What the latest forecast of one series says about the coming slices.

    Attributes:
        series: which series.
        forecast_made_at: the forecast used; None when the series has none.
        compliance: the objective's compliance window, up to now.
        prediction: None when there is no usable forecast.
        status: of the objective for this series.
    """

    series: SeriesKey
    forecast_made_at: datetime | None
    compliance: WindowReport
    prediction: Prediction | None
    status: Status


@attrs.frozen(kw_only=True)
class ObjectivePrediction:
    """An objective's predicted violations over the horizon."""

    index: int
    objective: Objective
    horizon_seconds: int
    series: tuple[SeriesPrediction, ...]

    @property
    def status(self) -> Status:
        """The worst series status; insufficient data when nothing matched."""
        if not self.series:
            return Status.INSUFFICIENT_DATA
        return worst_status(s.status for s in self.series)


@attrs.frozen(kw_only=True)
class SlaReport:
    """Predictions (and so status) of every objective of an SLA at one time."""

    sla: Sla
    at: datetime
    objectives: tuple[ObjectivePrediction, ...]

    @property
    def status(self) -> Status:
        """The worst objective status."""
        return worst_status(o.status for o in self.objectives)


def _ts(when: datetime) -> float:
    return when.timestamp()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def aligned_end(now: datetime, slice_seconds: int) -> float:
    """The end of the last complete slice: slices are aligned to Unix time."""
    return math.floor(_ts(now) / slice_seconds) * slice_seconds


class SlaManager:
    """Stores SLA definitions and judges them against samples and forecasts.

    Args:
        repository: where SLAs are stored.
        source: discovers series (to reject selectors that match nothing).
        samples: raw samples for the past.
        forecasts: the latest stored forecasts for the future.
        clock: the current time.
        limits: bounds on one SLA.
        coverage_floor: below this share of measured slices, a series is
            ``insufficient_data`` rather than green.
        predictions: where every prediction is recorded for later scoring
            (None: not recorded).
    """

    def __init__(
        self,
        repository: SlaRepository,
        source: MetricSource,
        samples: SampleSource,
        forecasts: ForecastLookup,
        clock: Clock,
        limits: SlaLimits | None = None,
        coverage_floor: float = 0.9,
        predictions: PredictionLog | None = None,
    ) -> None:
        self._repository = repository
        self._source = source
        self._samples = samples
        self._forecasts = forecasts
        self._clock = clock
        self.limits = limits or SlaLimits()
        self._coverage_floor = coverage_floor
        self._predictions = predictions

    # -- definitions -------------------------------------------------------

    def apply(
        self,
        draft: SlaDraft,
        expected_version: int | None = None,
        validate_only: bool = False,
    ) -> tuple[Sla, bool]:
        """Validate a draft completely, then create or replace the SLA.

        Args:
            draft: the SLA as given.
            expected_version: see ``SlaRepository.put``.
            validate_only: check everything and answer as if applied, but
                store nothing.

        Returns:
            The stored (or would-be) SLA and whether it changed.

        Raises:
            InvalidSla: a field is wrong or a selector matches no series (unless
                the objective allows pending); nothing was stored.
            VersionConflict: someone else changed the SLA meanwhile.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        sla = validate_sla(draft, self.limits)
        now = self._clock.now()
        unmatched: dict[str, str] = {}
        for index, objective in enumerate(sla.objectives):
            if objective.allow_pending:
                continue
            since = now - timedelta(seconds=objective.window_seconds)
            if not self._source.discover([objective.selector], since, now):
                unmatched[f"objectives[{index}].selector"] = (
                    f"{objective.selector.to_promql()} matches no series with "
                    "samples in its window; fix it or set allow_pending"
                )
        if unmatched:
            raise InvalidSla(unmatched)
        if validate_only:
            stored = self._repository.get(sla.name)
            return next_version(stored, sla, expected_version, now)
        return self._repository.put(sla, expected_version)

    def get(self, name: str) -> Sla:
        """The SLA of that name.

        Raises:
            SlaNotFound: no such SLA.
        """
        sla = self._repository.get(name)
        if sla is None:
            raise SlaNotFound(f"there is no SLA named {name!r}")
        return sla

    def list_slas(self) -> list[Sla]:
        """Every SLA, by name."""
        return self._repository.all()

    def delete(self, name: str, expected_version: int | None = None) -> None:
        """Delete an SLA; see :meth:`SlaRepository.delete`."""
        self._repository.delete(name, expected_version)

    def forecast_targets(self) -> list[Selector]:
        """The selectors of every objective of every SLA (the SLA set)."""
        seen: dict[Selector, None] = {}
        for sla in self._repository.all():
            for objective in sla.objectives:
                seen.setdefault(objective.selector)
        return list(seen)

    # -- judging -----------------------------------------------------------

    def _sliced(
        self, objective: Objective, seconds: int, end: float
    ) -> list[tuple[SeriesKey, tuple[Slice, ...]]]:
        start = end - seconds
        found = self._samples.samples(objective.selector, _at(start), _at(end))
        return [
            (
                s.key,
                slice_samples(
                    s.samples, start, end, objective.slice_seconds, objective.allowed
                ),
            )
            for s in sorted(found, key=_by_key)
        ]

    def _report(self, objective: Objective, slices: Sequence[Slice]) -> WindowReport:
        return evaluate_window(
            slices,
            objective.allowed,
            objective.target,
            objective.slice_seconds,
            self._coverage_floor,
        )

    def violations(
        self, name: str, windows: Sequence[int] = DEFAULT_WINDOWS
    ) -> list[ObjectiveViolations]:
        """Past violations of every objective over each trailing window.

        Every window ends at the end of the last complete slice; all series the
        selector matched with a sample in the longest window are reported in
        every window, a series silent in a shorter one with coverage 0
        (``insufficient_data``): a series that stops reporting is not green.
        A window that is not a whole number of an objective's slices is
        rounded up to whole slices (90s with 1m slices covers 2 slices).

        Raises:
            SlaNotFound: no such SLA.
            SourceUnavailable: Prometheus could not answer.
        """
        sla = self.get(name)
        now = self._clock.now()
        result = []
        for index, objective in enumerate(sla.objectives):
            end = aligned_end(now, objective.slice_seconds)
            longest = (
                -(-max(windows) // objective.slice_seconds) * objective.slice_seconds
            )
            sliced = self._sliced(objective, longest, end)
            per_window = []
            for window in windows:
                count = max(1, -(-window // objective.slice_seconds))
                judged = tuple(
                    SeriesWindow(series=key, report=self._report(objective, s[-count:]))
                    for key, s in sliced
                )
                per_window.append(
                    WindowViolations(
                        window_seconds=count * objective.slice_seconds,
                        start=_at(end - count * objective.slice_seconds),
                        end=_at(end),
                        series=judged,
                    )
                )
            result.append(
                ObjectiveViolations(
                    index=index, objective=objective, windows=tuple(per_window)
                )
            )
        return result

    def predict(self, name: str, horizon_seconds: int = DEFAULT_HORIZON) -> SlaReport:
        """Status and predicted violations of every objective over the horizon.

        Raises:
            SlaNotFound: no such SLA.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        sla = self.get(name)
        now = self._clock.now()
        objectives = tuple(
            self._predict_objective(index, objective, now, horizon_seconds)
            for index, objective in enumerate(sla.objectives)
        )
        self._record(sla.name, objectives)
        return SlaReport(sla=sla, at=now, objectives=objectives)

    def _record(self, name: str, objectives: Sequence["ObjectivePrediction"]) -> None:
        if self._predictions is None:
            return
        records = [
            PredictionRecord(
                sla=name,
                objective=o.index,
                series=s.series,
                made_at=s.prediction.slices[0].start,
                slice_seconds=o.objective.slice_seconds,
                slices=s.prediction.slices,
            )
            for o in objectives
            for s in o.series
            if s.prediction is not None
        ]
        try:
            self._predictions.record(records)
        except MonitoringError as exc:  # the prediction itself is still good
            log.warning("could not record %d predictions: %s", len(records), exc)

    def score(
        self, name: str, lookback_seconds: int = 86400
    ) -> list[tuple[int, PredictionScore]]:
        """Score the SLA's predictions whose horizon ended in the lookback.

        Returns:
            ``(objective index, score)`` for every objective; predictions made
            with another slice length than the objective's current one are left
            out (the SLA was changed since).

        Raises:
            SlaNotFound: no such SLA.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        sla = self.get(name)
        now = self._clock.now()
        since = now - timedelta(seconds=lookback_seconds)
        records = (
            []
            if self._predictions is None
            else self._predictions.between(name, since, now)
        )
        return [
            (index, self._score_objective(objective, index, records, now))
            for index, objective in enumerate(sla.objectives)
        ]

    def _score_objective(
        self,
        objective: Objective,
        index: int,
        records: Sequence[PredictionRecord],
        now: datetime,
    ) -> PredictionScore:
        due = [
            r
            for r in records
            if r.objective == index
            and r.slice_seconds == objective.slice_seconds
            and r.slices
            and r.until <= aligned_end(now, objective.slice_seconds)
        ]
        if not due:
            return PredictionScore()
        start = min(r.made_at for r in due)
        end = max(r.until for r in due)
        found = self._samples.samples(objective.selector, _at(start), _at(end))
        actual = {
            s.key: slice_samples(
                s.samples, start, end, objective.slice_seconds, objective.allowed
            )
            for s in found
        }
        return score_predictions((r, actual.get(r.series, ())) for r in due)

    def _predict_objective(
        self, index: int, objective: Objective, now: datetime, horizon: int
    ) -> ObjectivePrediction:
        end = aligned_end(now, objective.slice_seconds)
        series = []
        for key, past in self._sliced(objective, objective.window_seconds, end):
            report = self._report(objective, past)
            forecast = self._forecasts.latest_forecast(key.id)
            prediction = None
            if forecast is not None:
                prediction = predict(
                    forecast.points,
                    objective.allowed,
                    now=end,
                    horizon_seconds=horizon,
                    slice_seconds=objective.slice_seconds,
                    past=past,
                    window_seconds=objective.window_seconds,
                    target=objective.target,
                    floor=_floor(past),
                )
                if not prediction.slices:
                    prediction = None
            series.append(
                SeriesPrediction(
                    series=key,
                    forecast_made_at=forecast.made_at if forecast else None,
                    prediction=prediction,
                    compliance=report,
                    status=objective_status(report, prediction),
                )
            )
        return ObjectivePrediction(
            index=index,
            objective=objective,
            horizon_seconds=horizon,
            series=tuple(series),
        )


def _by_key(samples: SeriesSamples) -> str:
    return samples.key.canonical


def _floor(past: Sequence[Slice]) -> float | None:
    """The series' lower bound, from the compliance window (ADR 0017)."""
    return history_domain(s.minimum for s in past if s.minimum is not None).lower
