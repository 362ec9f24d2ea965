"""Between the core's SLA types and the protobuf messages of proto/."""

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp

from adapters.grpc.generated import sla_manager_pb2 as pb
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.durations import format_duration
from monitoring_core.prediction_scores import PredictionScore
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_judgement import ObjectiveViolations
from monitoring_core.services.sla_predictions import (
    ObjectivePrediction,
    SeriesPrediction,
    SlaReport,
)
from monitoring_core.sla import (
    AlertingDraft,
    Objective,
    ObjectiveDraft,
    Sla,
    SlaDraft,
)
from monitoring_core.slo import Episode, PredictedSlice, Side, Status, WindowReport

STATUS = {
    Status.OK: pb.STATUS_OK,
    Status.AT_RISK: pb.STATUS_AT_RISK,
    Status.VIOLATING: pb.STATUS_VIOLATING,
    Status.INSUFFICIENT_DATA: pb.STATUS_INSUFFICIENT_DATA,
    Status.WARMING_UP: pb.STATUS_WARMING_UP,
}
STATUS_NAMES = {number: status.value for status, number in STATUS.items()}
SIDE = {Side.ABOVE: pb.SIDE_ABOVE, Side.BELOW: pb.SIDE_BELOW}
SIDE_NAMES = {number: side.value for side, number in SIDE.items()}


def timestamp(moment: datetime | float) -> Timestamp:
    """A protobuf Timestamp of an aware datetime or a Unix time."""
    stamp = Timestamp()
    if isinstance(moment, datetime):
        stamp.FromDatetime(moment)
    else:  # the shortest decimal of the float: 1795000015.905 stays .905
        stamp.FromNanoseconds(int(Decimal(repr(moment)) * 1_000_000_000))
    return stamp


def to_datetime(stamp: Timestamp) -> datetime:
    """The aware UTC datetime of a Timestamp."""
    return stamp.ToDatetime(tzinfo=UTC)


def seconds(stamp: Timestamp) -> float:
    """The Unix time of a Timestamp, the float nearest its exact value."""
    return float(Decimal(stamp.seconds) + Decimal(stamp.nanos) / 1_000_000_000)


def draft_from_message(message: pb.Sla) -> SlaDraft:
    """An unchecked draft of what the client sent; validation comes after."""
    return SlaDraft(
        name=message.name,
        description=message.description,
        objectives=tuple(
            ObjectiveDraft(
                selector=o.selector,
                lo=o.lo if o.HasField("lo") else None,
                hi=o.hi if o.HasField("hi") else None,
                target=o.target,
                window=o.window,
                slice=o.slice or "1m",
                allow_pending=o.allow_pending,
            )
            for o in message.objectives
        ),
        alerting=alerting_draft(message.alerting),
    )


def alerting_draft(message: pb.Alerting) -> AlertingDraft:
    """The alerting settings as sent; an absent message is all defaults."""
    return AlertingDraft(
        predicted_breach_probability=message.predicted_breach_probability
        if message.HasField("predicted_breach_probability")
        else None,
        predicted_breach_for=message.predicted_breach_for,
        predicted_breach_horizon=message.predicted_breach_horizon,
    )


def alerting_message(policy: AlertingPolicy) -> pb.Alerting:
    """Every setting of a policy, durations printed like Prometheus."""
    wait = policy.predicted_breach_for_seconds
    return pb.Alerting(
        predicted_breach_probability=policy.predicted_breach_probability,
        predicted_breach_for=format_duration(wait) if wait else "0s",
        predicted_breach_horizon=format_duration(
            policy.predicted_breach_horizon_seconds
        ),
    )


def objective_message(objective: Objective) -> pb.Objective:
    """The message of a stored objective (durations printed like Prometheus)."""
    message = pb.Objective(
        selector=objective.selector.to_promql(),
        target=objective.target,
        window=format_duration(objective.window_seconds),
        slice=format_duration(objective.slice_seconds),
        allow_pending=objective.allow_pending,
    )
    if objective.allowed.lo is not None:
        message.lo = objective.allowed.lo
    if objective.allowed.hi is not None:
        message.hi = objective.allowed.hi
    return message


def sla_message(sla: Sla) -> pb.Sla:
    """The message of a stored SLA, with its version and time."""
    message = pb.Sla(
        name=sla.name,
        description=sla.description,
        objectives=[objective_message(o) for o in sla.objectives],
        version=sla.version,
    )
    if sla.updated_at is not None:
        message.updated_at.CopyFrom(timestamp(sla.updated_at))
    if sla.alerting != AlertingPolicy():  # absent means the defaults (ADR 0049)
        message.alerting.CopyFrom(alerting_message(sla.alerting))
    return message


def series_message(key: SeriesKey) -> pb.Series:
    """Id, name and labels of a series."""
    return pb.Series(id=key.id, name=key.name, labels=dict(key.labels))


def episode_message(episode: Episode) -> pb.Episode:
    """One violation episode."""
    return pb.Episode(
        side=SIDE[episode.side],
        start=timestamp(episode.start),
        end=timestamp(episode.end),
        open=episode.open,
        duration_seconds=episode.duration_seconds,
        bad_slices=episode.bad_slices,
        unmeasured_slices=episode.unmeasured_slices,
        worst_value=episode.worst_value,
        worst_distance=episode.worst_distance,
    )


def set_optional(message: object, **values: float | None) -> None:
    """Set each optional field whose value is a finite number (else: absent)."""
    for name, value in values.items():
        if value is not None and math.isfinite(value):
            setattr(message, name, value)


def window_report_message(report: WindowReport) -> pb.WindowReport:
    """Every number of one series over one window."""
    message = pb.WindowReport(
        window=format_duration(round(report.window_seconds)),
        start=timestamp(report.start),
        end=timestamp(report.end),
        total_slices=report.total_slices,
        good_slices=report.good_slices,
        above_slices=report.above_slices,
        below_slices=report.below_slices,
        unmeasured_slices=report.unmeasured_slices,
        coverage=report.coverage,
        budget_slices=report.budget_slices,
        budget_minutes=report.budget_minutes,
        budget_remaining_minutes=report.budget_remaining_minutes,
        episodes=[episode_message(e) for e in report.episodes],
        breached=report.breached,
        insufficient_data=report.insufficient_data,
        warming_up=report.warming_up,
    )
    set_optional(
        message,
        sli=report.sli,
        gap=report.gap,
        budget_consumed=report.budget_consumed,
        budget_remaining=report.budget_remaining,
        burn_rate=report.burn_rate,
    )
    return message


def violations_message(
    name: str, at: datetime, objectives: Sequence[ObjectiveViolations]
) -> pb.ViolationsReport:
    """Past violations of every objective, window by window."""
    return pb.ViolationsReport(
        name=name,
        at=timestamp(at),
        objectives=[
            pb.ObjectiveViolations(
                index=o.index,
                objective=objective_message(o.objective),
                windows=[
                    pb.ObjectiveWindow(
                        window=format_duration(w.window_seconds),
                        series=[
                            pb.SeriesWindow(
                                series=series_message(s.series),
                                report=window_report_message(s.report),
                            )
                            for s in w.series
                        ],
                    )
                    for w in o.windows
                ],
            )
            for o in objectives
        ],
    )


def _predicted_slice(item: PredictedSlice) -> pb.PredictedSlice:
    message = pb.PredictedSlice(
        start=timestamp(item.start),
        end=timestamp(item.end),
        probability=item.probability,
        mean=item.mean,
        lower=item.lower,
        upper=item.upper,
        side=SIDE[item.side] if item.side else pb.SIDE_UNSPECIFIED,
    )
    set_optional(message, projected_budget_remaining=item.projected_budget_remaining)
    return message


def _series_prediction(item: SeriesPrediction) -> pb.SeriesPrediction:
    message = pb.SeriesPrediction(
        series=series_message(item.series),
        status=STATUS[item.status],
        compliance=window_report_message(item.compliance),
    )
    if item.forecast_made_at is not None:
        message.forecast_made_at.CopyFrom(timestamp(item.forecast_made_at))
    prediction = item.prediction
    if prediction is None:
        return message
    message.slices.extend(_predicted_slice(s) for s in prediction.slices)
    if prediction.eta is not None:
        message.eta.CopyFrom(_predicted_slice(prediction.eta))
    if prediction.breach_at is not None:
        message.breach_at.CopyFrom(timestamp(prediction.breach_at))
    message.expected_bad_slices = prediction.expected_bad_slices
    message.breach_predicted = prediction.breach_predicted
    message.method = prediction.method
    message.interval_level = prediction.level
    set_optional(
        message, projected_budget_remaining=prediction.projected_budget_remaining
    )
    return message


def _objective_prediction(item: ObjectivePrediction) -> pb.ObjectivePrediction:
    return pb.ObjectivePrediction(
        index=item.index,
        objective=objective_message(item.objective),
        status=STATUS[item.status],
        series=[_series_prediction(s) for s in item.series],
    )


def prediction_message(report: SlaReport, horizon_seconds: int) -> pb.PredictionReport:
    """Status and predictions of every objective."""
    return pb.PredictionReport(
        name=report.sla.name,
        at=timestamp(report.at),
        horizon=format_duration(horizon_seconds),
        status=STATUS[report.status],
        objectives=[_objective_prediction(o) for o in report.objectives],
    )


def score_message(score: PredictionScore) -> pb.PredictionScore:
    """Counts and rates of one objective's scored predictions."""
    message = pb.PredictionScore(
        predictions=score.predictions,
        slices_compared=score.slices_compared,
        predicted_bad=score.predicted_bad,
        bad=score.bad,
        true_positives=score.true_positives,
    )
    set_optional(
        message,
        precision=score.precision,
        recall=score.recall,
        brier=score.brier,
        interval_coverage=score.interval_coverage,
    )
    return message


def scores_message(
    sla: Sla,
    at: datetime,
    lookback_seconds: int,
    scores: Sequence[tuple[int, PredictionScore]],
) -> pb.PredictionScoreReport:
    """Every objective's prediction score."""
    return pb.PredictionScoreReport(
        name=sla.name,
        at=timestamp(at),
        lookback=format_duration(lookback_seconds),
        objectives=[
            pb.ObjectivePredictionScore(
                index=index,
                objective=objective_message(sla.objectives[index]),
                score=score_message(score),
            )
            for index, score in scores
        ],
    )
