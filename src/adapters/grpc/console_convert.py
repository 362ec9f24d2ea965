"""Between the console's read models (``sla_console``) and their protobuf messages.

Both directions: the server writes what ``SlaConsoleQueries`` answers, the
client reads it back into the same domain types, so the console renders the
same figures in process and over gRPC (ADR 0056). An absent value inside a
repeated double is NaN on the wire.
"""

import math
from collections.abc import Iterable

import attrs

from adapters.grpc import convert
from adapters.grpc.generated import sla_manager_pb2 as pb
from monitoring_core.prediction_scores import PredictionScore
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_console import (
    BudgetPath,
    BurnDown,
    ObjectiveRange,
    SeriesBudget,
    SeriesRange,
    SlaRange,
)
from monitoring_core.services.sla_state import (
    ObjectiveState,
    PredictedFigures,
    SeriesState,
    SlaState,
    StateSnapshot,
    WindowFigures,
)
from monitoring_core.sla import Sla, SlaLimits, validate_sla
from monitoring_core.slo import Episode, Status

_STATUSES = {number: Status(name) for number, name in convert.STATUS_NAMES.items()}
_SIDES = {number: side for side, number in convert.SIDE.items()}
_STORED = SlaLimits(max_objectives=10_000)
"""What the manager stored passed its own limits; read it back without them."""


def _optional(message: object, field: str) -> float | None:
    return getattr(message, field) if message.HasField(field) else None  # type: ignore[attr-defined]


def _nan(values: Iterable[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _none(values: Iterable[float]) -> tuple[float | None, ...]:
    return tuple(None if math.isnan(v) else v for v in values)


def sla_from_message(message: pb.Sla) -> Sla:
    """The stored SLA a message describes, with its version and time."""
    sla = validate_sla(convert.draft_from_message(message), _STORED)
    return attrs.evolve(
        sla,
        version=message.version,
        updated_at=convert.to_datetime(message.updated_at)
        if message.HasField("updated_at")
        else None,
    )


def series_key(message: pb.Series) -> SeriesKey:
    """The key of a series message (its id is recomputed from name and labels)."""
    return SeriesKey.of(message.name, dict(message.labels))


def window_message(figures: WindowFigures) -> pb.WindowFigures:
    message = pb.WindowFigures(
        window_seconds=figures.window_seconds,
        above_slices=figures.above_slices,
        below_slices=figures.below_slices,
    )
    convert.set_optional(
        message,
        sli=figures.sli,
        budget_remaining=figures.budget_remaining,
        burn_rate=figures.burn_rate,
    )
    return message


def window_figures(message: pb.WindowFigures) -> WindowFigures:
    return WindowFigures(
        window_seconds=message.window_seconds,
        sli=_optional(message, "sli"),
        budget_remaining=_optional(message, "budget_remaining"),
        burn_rate=_optional(message, "burn_rate"),
        above_slices=message.above_slices,
        below_slices=message.below_slices,
    )


def _predicted_into(target: pb.PredictedFigures, figures: PredictedFigures) -> None:
    target.horizon_seconds = figures.horizon_seconds
    target.bad_slice_probability = figures.bad_slice_probability
    target.expected_bad_slices = figures.expected_bad_slices
    convert.set_optional(target, eta_seconds=figures.eta_seconds)


def predicted_figures(
    parent: object, field: str = "predicted"
) -> PredictedFigures | None:
    """The figures in ``parent.field``; None when the field is absent."""
    if not parent.HasField(field):  # type: ignore[attr-defined]
        return None
    message: pb.PredictedFigures = getattr(parent, field)
    return PredictedFigures(
        horizon_seconds=message.horizon_seconds,
        bad_slice_probability=message.bad_slice_probability,
        eta_seconds=_optional(message, "eta_seconds"),
        expected_bad_slices=message.expected_bad_slices,
    )


def _series_state(state: SeriesState) -> pb.SeriesState:
    message = pb.SeriesState(
        series=convert.series_message(state.series),
        windows=[window_message(w) for w in state.windows],
        status=convert.STATUS[state.status],
    )
    if state.predicted is not None:
        _predicted_into(message.predicted, state.predicted)
    return message


def _objective_state(state: ObjectiveState) -> pb.ObjectiveState:
    message = pb.ObjectiveState(
        objective=state.objective,
        windows=[window_message(w) for w in state.windows],
        status=convert.STATUS[state.status],
        series_count=state.series_count,
        series=[_series_state(s) for s in state.series],
    )
    if state.predicted is not None:
        _predicted_into(message.predicted, state.predicted)
    return message


def sla_state_message(state: SlaState) -> pb.SlaState:
    """Every objective's figures of one SLA."""
    return pb.SlaState(
        sla=state.sla, objectives=[_objective_state(o) for o in state.objectives]
    )


def sla_state(message: pb.SlaState) -> SlaState:
    return SlaState(
        sla=message.sla,
        objectives=tuple(
            ObjectiveState(
                objective=o.objective,
                windows=tuple(window_figures(w) for w in o.windows),
                predicted=predicted_figures(o),
                status=_STATUSES[o.status],
                series_count=o.series_count,
                series=tuple(
                    SeriesState(
                        series=series_key(s.series),
                        windows=tuple(window_figures(w) for w in s.windows),
                        predicted=predicted_figures(s),
                        status=_STATUSES[s.status],
                    )
                    for s in o.series
                ),
            )
            for o in message.objectives
        ),
    )


def snapshot_message(snapshot: StateSnapshot) -> pb.StateSnapshot:
    """The last SLO state of every SLA."""
    message = pb.StateSnapshot(
        slas=[sla_state_message(s) for s in snapshot.slas],
        failures=snapshot.failures,
    )
    if snapshot.refreshed_at is not None:
        message.refreshed_at.CopyFrom(convert.timestamp(snapshot.refreshed_at))
    convert.set_optional(message, duration_seconds=snapshot.duration_seconds)
    return message


def snapshot(message: pb.StateSnapshot) -> StateSnapshot:
    return StateSnapshot(
        slas=tuple(sla_state(s) for s in message.slas),
        refreshed_at=convert.to_datetime(message.refreshed_at)
        if message.HasField("refreshed_at")
        else None,
        duration_seconds=_optional(message, "duration_seconds"),
        failures=message.failures,
    )


def _episode(message: pb.Episode) -> Episode:
    return Episode(
        side=_SIDES[message.side],
        start=convert.seconds(message.start),
        end=convert.seconds(message.end),
        open=message.open,
        bad_slices=message.bad_slices,
        unmeasured_slices=message.unmeasured_slices,
        worst_value=message.worst_value,
        worst_distance=message.worst_distance,
    )


def _score(message: pb.PredictionScore) -> PredictionScore:
    return PredictionScore(
        predictions=message.predictions,
        slices_compared=message.slices_compared,
        predicted_bad=message.predicted_bad,
        bad=message.bad,
        true_positives=message.true_positives,
        brier=_optional(message, "brier"),
        interval_coverage=_optional(message, "interval_coverage"),
    )


def _series_range(found: SeriesRange) -> pb.SeriesRange:
    message = pb.SeriesRange(
        series=convert.series_message(found.series),
        starts=found.starts,
        minimum=_nan(found.minimum),
        maximum=_nan(found.maximum),
        episodes=[convert.episode_message(e) for e in found.episodes],
    )
    convert.set_optional(
        message, sli=found.sli, budget_remaining=found.budget_remaining
    )
    return message


def _objective_range(found: ObjectiveRange) -> pb.ObjectiveRange:
    message = pb.ObjectiveRange(
        index=found.index,
        series_count=found.series_count,
        series=[_series_range(s) for s in found.series],
    )
    if found.score is not None:
        message.score.CopyFrom(convert.score_message(found.score))
    if found.previewed is not None:
        _predicted_into(message.previewed, found.previewed)
    return message


def sla_range_message(found: SlaRange) -> pb.SlaRange:
    """One SLA over a range."""
    message = pb.SlaRange(
        sla=convert.sla_message(found.sla),
        objectives=[_objective_range(o) for o in found.objectives],
    )
    if found.state is not None:
        message.state.CopyFrom(sla_state_message(found.state))
    return message


def sla_range(message: pb.SlaRange) -> SlaRange:
    return SlaRange(
        sla=sla_from_message(message.sla),
        state=sla_state(message.state) if message.HasField("state") else None,
        objectives=tuple(
            ObjectiveRange(
                index=o.index,
                series_count=o.series_count,
                series=tuple(
                    SeriesRange(
                        series=series_key(s.series),
                        starts=tuple(s.starts),
                        minimum=_none(s.minimum),
                        maximum=_none(s.maximum),
                        sli=_optional(s, "sli"),
                        budget_remaining=_optional(s, "budget_remaining"),
                        episodes=tuple(_episode(e) for e in s.episodes),
                    )
                    for s in o.series
                ),
                score=_score(o.score) if o.HasField("score") else None,
                previewed=predicted_figures(o, "previewed"),
            )
            for o in message.objectives
        ),
    )


def _path_into(target: pb.BudgetPath, path: BudgetPath) -> None:
    target.ends.extend(path.ends)
    target.budget.extend(_nan(path.budget))


def _path(message: pb.BudgetPath) -> BudgetPath:
    return BudgetPath(ends=tuple(message.ends), budget=_none(message.budget))


def burn_down_message(found: BurnDown) -> pb.BurnDown:
    """One objective's burn-down."""
    message = pb.BurnDown(
        sla=convert.sla_message(found.sla),
        objective=found.index,
        horizon_seconds=found.horizon_seconds,
    )
    for s in found.series:
        item = message.series.add(series=convert.series_message(s.series))
        _path_into(item.past, s.past)
        if s.predicted is not None:
            _path_into(item.predicted, s.predicted)
        if s.breach_at is not None:
            item.breach_at.CopyFrom(convert.timestamp(s.breach_at))
    return message


def burn_down(message: pb.BurnDown) -> BurnDown:
    return BurnDown(
        sla=sla_from_message(message.sla),
        index=message.objective,
        horizon_seconds=message.horizon_seconds,
        series=tuple(
            SeriesBudget(
                series=series_key(s.series),
                past=_path(s.past),
                predicted=_path(s.predicted) if s.HasField("predicted") else None,
                breach_at=convert.seconds(s.breach_at)
                if s.HasField("breach_at")
                else None,
            )
            for s in message.series
        ),
    )
