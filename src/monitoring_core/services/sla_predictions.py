"""The SLA manager's predictions: predict breaches, record them, score them later."""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from monitoring_core.errors import MonitoringError, SlaNotFound
from monitoring_core.ports import Clock, ForecastLookup, PredictionLog
from monitoring_core.prediction_scores import (
    PredictionRecord,
    PredictionScore,
    score_predictions,
)
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import SlaJudgement, aligned_end
from monitoring_core.sla import Objective, Sla
from monitoring_core.slo import (
    Prediction,
    Slice,
    Status,
    WindowReport,
    objective_status,
    predict,
    worst_status,
)
from monitoring_core.value_domains import history_domain

# The logger name operators filter on, kept from before the split (issue 12).
log = logging.getLogger("monitoring_core.services.sla_manager")
DEFAULT_HORIZON = 600


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


def _floor(past: Sequence[Slice]) -> float | None:
    """The series' lower bound, from the compliance window (ADR 0017)."""
    return history_domain(s.minimum for s in past if s.minimum is not None).lower


class PredictionService:
    """Predicts SLA breaches from stored forecasts, records and scores them.

    Args:
        definitions: where the SLAs are found.
        judgement: judges each series' compliance window (the status's base).
        forecasts: the latest stored forecasts for the future.
        clock: the current time.
        log: where every prediction is recorded for later scoring (None: not
            recorded).
    """

    def __init__(
        self,
        definitions: SlaDefinitions,
        judgement: SlaJudgement,
        forecasts: ForecastLookup,
        clock: Clock,
        log: PredictionLog | None = None,
    ) -> None:
        self._definitions = definitions
        self._judgement = judgement
        self._forecasts = forecasts
        self._clock = clock
        self._log = log

    def predict(self, name: str, horizon_seconds: int = DEFAULT_HORIZON) -> SlaReport:
        """Status and predicted violations of every objective over the horizon.

        Raises:
            SlaNotFound: no such SLA.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        report = self._report(name, horizon_seconds, None)
        self._record(report.sla.name, report.objectives)
        return report

    def preview(
        self,
        name: str,
        horizon_seconds: int = DEFAULT_HORIZON,
        *,
        objective: int | None = None,
    ) -> SlaReport:
        """What ``predict`` would say now, without recording it in the ledger.

        For readers that look often (the web console): recording every look
        would fill the ledger and weigh the scores toward what was viewed.

        Args:
            name: the SLA.
            horizon_seconds: the prediction horizon.
            objective: only this objective's index (None: every objective).

        Raises:
            SlaNotFound: no such SLA, or no objective ``objective``.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        return self._report(name, horizon_seconds, objective)

    def _report(self, name: str, horizon: int, only: int | None) -> SlaReport:
        sla = self._definitions.get(name)
        if only is not None and not 0 <= only < len(sla.objectives):
            raise SlaNotFound(name)
        now = self._clock.now()
        objectives = tuple(
            self._predict_objective(index, objective, now, horizon)
            for index, objective in enumerate(sla.objectives)
            if only is None or index == only
        )
        return SlaReport(sla=sla, at=now, objectives=objectives)

    def _predict_objective(
        self, index: int, objective: Objective, now: datetime, horizon: int
    ) -> ObjectivePrediction:
        end = aligned_end(now, objective.slice_seconds)
        start = end - objective.window_seconds
        series = tuple(
            self._predict_series(key, past, objective, end, horizon)
            for key, past in self._judgement.sliced(objective, start, end)
        )
        return ObjectivePrediction(
            index=index, objective=objective, horizon_seconds=horizon, series=series
        )

    def _predict_series(
        self,
        key: SeriesKey,
        past: Sequence[Slice],
        objective: Objective,
        end: float,
        horizon: int,
    ) -> SeriesPrediction:
        report = self._judgement.report(objective, past)
        forecast = self._forecasts.latest_forecast(key.id)
        prediction = None
        if forecast is not None:
            prediction = predict(
                forecast.points,
                objective.kind,
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
        return SeriesPrediction(
            series=key,
            forecast_made_at=forecast.made_at if forecast else None,
            prediction=prediction,
            compliance=report,
            status=objective_status(report, prediction),
        )

    def _record(self, name: str, objectives: Sequence[ObjectivePrediction]) -> None:
        if self._log is None:
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
            self._log.record(records)
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
        sla = self._definitions.get(name)
        now = self._clock.now()
        since = now - timedelta(seconds=lookback_seconds)
        records = [] if self._log is None else self._log.between(name, since, now)
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
        actual = dict(self._judgement.sliced(objective, start, end))
        return score_predictions((r, actual.get(r.series, ())) for r in due)
