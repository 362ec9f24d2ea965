"""What the web console reads of the SLA manager, and the use case that answers it.

:class:`SlaConsoleSource` is the console's port-like view of the SLA manager
(ADR 0056): ``monitoring run`` answers it in process with
:class:`SlaConsoleQueries`, ``monitoring api`` through the SLA manager's gRPC
API, whose server calls the same :class:`SlaConsoleQueries`. Every figure is
computed here from the SLA manager's use cases: the state snapshot
(``SlaStateService``), the judgement of slices (``SlaJudgement``, as
``GetViolations``), predictions that are not recorded (``PredictionService.
preview``) and the past predictions' scores (``PredictionService.score``).
"""

from collections.abc import Sequence
from typing import Protocol

import attrs

from monitoring_core.errors import SlaNotFound
from monitoring_core.ports import Clock
from monitoring_core.prediction_scores import PredictionScore
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import SlaJudgement, aligned_end
from monitoring_core.services.sla_predictions import DEFAULT_HORIZON, PredictionService
from monitoring_core.services.sla_state import (
    PredictedFigures,
    SlaState,
    SlaStateService,
    StateSnapshot,
)
from monitoring_core.services.sla_state_figures import (
    predicted_figures,
    worst_predicted,
)
from monitoring_core.sla import Sla
from monitoring_core.slo import Episode, Prediction


@attrs.frozen(kw_only=True)
class SeriesRange:
    """One series over the range a page shows: its slices and their judgement.

    Attributes:
        series: which series.
        starts, minimum, maximum: each slice's start and extremes (None:
            unmeasured).
        sli, budget_remaining, episodes: of the range as one window.
    """

    series: SeriesKey
    starts: tuple[float, ...]
    minimum: tuple[float | None, ...]
    maximum: tuple[float | None, ...]
    sli: float | None
    budget_remaining: float | None
    episodes: tuple[Episode, ...]


@attrs.frozen(kw_only=True)
class ObjectiveRange:
    """An objective over the range, with its prediction score.

    Attributes:
        index: in the SLA.
        series_count: series with a sample in the range.
        series: the first ``max_series`` of them, by series key.
        score: how its recorded predictions fared (None: not scored).
        previewed: the predicted figures now, only when the state snapshot
            lacks the SLA (not refreshed yet).
    """

    index: int
    series_count: int
    series: tuple[SeriesRange, ...]
    score: PredictionScore | None
    previewed: PredictedFigures | None


@attrs.frozen(kw_only=True)
class SlaRange:
    """One SLA over a range: its definition, its last state and its objectives."""

    sla: Sla
    state: SlaState | None
    objectives: tuple[ObjectiveRange, ...]


@attrs.frozen(kw_only=True)
class BudgetPath:
    """Error budget remaining at the end of each slice listed (None: unmeasured)."""

    ends: tuple[float, ...]
    budget: tuple[float | None, ...]


@attrs.frozen(kw_only=True)
class SeriesBudget:
    """One series' burn-down and, when it has a forecast, its continuation."""

    series: SeriesKey
    past: BudgetPath
    predicted: BudgetPath | None
    breach_at: float | None


@attrs.frozen(kw_only=True)
class BurnDown:
    """An objective's error budget over a range, series by series."""

    sla: Sla
    index: int
    horizon_seconds: int
    series: tuple[SeriesBudget, ...]


class SlaConsoleSource(Protocol):
    """What the console's SLA pages read of the SLA manager."""

    def snapshot(self) -> StateSnapshot:
        """The SLA manager's last SLO state (what ``/metrics`` shows).

        Raises:
            SlaManagerUnavailable: it could not be asked.
        """
        ...

    def list_slas(self) -> Sequence[Sla]:
        """Every SLA, by name.

        Raises:
            SlaManagerUnavailable, StoreUnavailable: a dependency is down.
        """
        ...

    def sla_range(self, name: str, range_seconds: int, max_series: int) -> SlaRange:
        """Every objective of an SLA over the range ending at the last slice.

        Raises:
            SlaNotFound: no such SLA.
            SlaManagerUnavailable, SourceUnavailable, StoreUnavailable: a
                dependency is down.
        """
        ...

    def burn_down(
        self, name: str, index: int, range_seconds: int, points: int, max_series: int
    ) -> BurnDown:
        """Objective ``index``'s budget over the range at up to ``points`` ends.

        Each point judges the compliance window ending there.

        Raises:
            SlaNotFound: no such SLA, or no objective ``index``.
            SlaManagerUnavailable, SourceUnavailable, StoreUnavailable: a
                dependency is down.
        """
        ...


def _continuation(prediction: Prediction | None) -> BudgetPath | None:
    """The projected budget remaining at the end of each predicted slice."""
    if prediction is None:
        return None
    return BudgetPath(
        ends=tuple(s.end for s in prediction.slices),
        budget=tuple(s.projected_budget_remaining for s in prediction.slices),
    )


class SlaConsoleQueries(SlaConsoleSource):
    """The console's reads, answered by the SLA manager's use cases in process.

    Args:
        state: whose last snapshot the overview shows.
        definitions, judgement, predictions: the SLA manager's use cases.
        clock: where the ranges end (at the last complete slice).
    """

    def __init__(
        self,
        state: SlaStateService,
        definitions: SlaDefinitions,
        judgement: SlaJudgement,
        predictions: PredictionService,
        clock: Clock,
    ) -> None:
        self._state = state
        self._definitions = definitions
        self._judgement = judgement
        self._predictions = predictions
        self._clock = clock

    def snapshot(self) -> StateSnapshot:
        """The last snapshot of the state service."""
        return self._state.snapshot

    def list_slas(self) -> Sequence[Sla]:
        """Every SLA, by name."""
        return self._definitions.list_slas()

    def _state_of(self, name: str) -> SlaState | None:
        return next((s for s in self._state.snapshot.slas if s.sla == name), None)

    def sla_range(self, name: str, range_seconds: int, max_series: int) -> SlaRange:
        """Each objective sliced and judged over the range, with its score."""
        sla = self._definitions.get(name)
        now = self._clock.now()
        asked = []
        for objective in sla.objectives:
            step = objective.slice_seconds
            end = aligned_end(now, step)
            asked.append((objective, end - -(-range_seconds // step) * step, end))
        sliced = self._judgement.sliced_all(asked)
        scores = dict(self._predictions.score(name))
        state = self._state_of(name)
        previewed = {} if state is not None else self._previewed(name)
        objectives = []
        for index, (objective, found) in enumerate(
            zip(sla.objectives, sliced, strict=True)
        ):
            shown = []
            for key, slices in found[:max_series]:
                report = self._judgement.report(objective, slices)
                shown.append(
                    SeriesRange(
                        series=key,
                        starts=tuple(s.start for s in slices),
                        minimum=tuple(s.minimum for s in slices),
                        maximum=tuple(s.maximum for s in slices),
                        sli=report.sli,
                        budget_remaining=report.budget_remaining,
                        episodes=report.episodes,
                    )
                )
            objectives.append(
                ObjectiveRange(
                    index=index,
                    series_count=len(found),
                    series=tuple(shown),
                    score=scores.get(index),
                    previewed=previewed.get(index),
                )
            )
        return SlaRange(sla=sla, state=state, objectives=tuple(objectives))

    def _previewed(self, name: str) -> dict[int, PredictedFigures]:
        """Each objective's predicted figures when the snapshot lacks the SLA.

        A ``preview``: pages are looked at often, and only the SLA manager's
        own refresh records predictions in the ledger.
        """
        report = self._predictions.preview(name, DEFAULT_HORIZON)
        now = report.at.timestamp()
        found = {}
        for o in report.objectives:
            worst = worst_predicted(
                [
                    predicted_figures(s.prediction, o.horizon_seconds, now)
                    for s in o.series
                    if s.prediction is not None
                ]
            )
            if worst is not None:
                found[o.index] = worst
        return found

    def _horizon(self, name: str, index: int) -> int:
        """The horizon the SLA manager predicts over (its last snapshot's)."""
        state = self._state_of(name)
        for own in () if state is None else state.objectives:
            if own.objective == str(index) and own.predicted is not None:
                return own.predicted.horizon_seconds
        return DEFAULT_HORIZON

    def burn_down(
        self, name: str, index: int, range_seconds: int, points: int, max_series: int
    ) -> BurnDown:
        """Each point is ``SlaJudgement.report`` of the compliance window ending
        there (the figure ``GetViolations`` gives at that time); the
        continuation is ``PredictionService.preview``'s projected budget."""
        sla = self._definitions.get(name)
        if not 0 <= index < len(sla.objectives):
            raise SlaNotFound(f"SLA {name!r} has no objective {index}")
        objective = sla.objectives[index]
        step, window = objective.slice_seconds, objective.window_seconds
        count = -(-window // step)
        end = aligned_end(self._clock.now(), step)
        shown = -(-range_seconds // step)
        start = end - (shown + count) * step
        [sliced] = self._judgement.sliced_all([(objective, start, end)])
        stride = max(1, -(-shown // max(1, points)))
        ends = range(count + shown % stride, count + shown + 1, stride)
        horizon = self._horizon(name, index)
        preview = self._predictions.preview(name, horizon, objective=index)
        predicted = {
            s.series: s.prediction for o in preview.objectives for s in o.series
        }
        series = []
        for key, slices in sliced[:max_series]:
            kept = [i for i in ends if i <= len(slices)]
            prediction = predicted.get(key)
            series.append(
                SeriesBudget(
                    series=key,
                    past=BudgetPath(
                        ends=tuple(slices[i - 1].end for i in kept),
                        budget=tuple(
                            self._judgement.report(
                                objective, slices[i - count : i]
                            ).budget_remaining
                            for i in kept
                        ),
                    ),
                    predicted=_continuation(prediction),
                    breach_at=None if prediction is None else prediction.breach_at,
                )
            )
        return BurnDown(
            sla=sla, index=index, horizon_seconds=horizon, series=tuple(series)
        )
