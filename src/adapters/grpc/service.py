"""The SlaManager gRPC servicer: protobuf in, the core's use cases, status codes out."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from adapters.grpc import console_convert, convert
from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.grpc.generated import sla_manager_pb2_grpc as pb_grpc
from monitoring_core.durations import parse_duration
from monitoring_core.errors import (
    InvalidDuration,
    InvalidSla,
    SlaNotFound,
    SourceUnavailable,
    StoreUnavailable,
    VersionConflict,
)
from monitoring_core.ports import Clock
from monitoring_core.services.sla_console import SlaConsoleSource
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import DEFAULT_WINDOWS, SlaJudgement
from monitoring_core.services.sla_predictions import DEFAULT_HORIZON, PredictionService

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 256 * 1024
"""Larger requests are refused as INVALID_ARGUMENT (gRPC's own limit is higher)."""
MAX_WINDOWS = 10
MAX_HORIZON_SECONDS = 6 * 3600
DEFAULT_SCORE_LOOKBACK = 86400
MAX_CONSOLE_SERIES = 100
"""Series listed per objective in a console answer (the rest are counted)."""
MAX_BURN_POINTS = 1000
T = TypeVar("T")


def _abort_invalid(context: grpc.ServicerContext, fields: dict[str, str]) -> NoReturn:
    """INVALID_ARGUMENT with a google.rpc.BadRequest naming every wrong field."""
    message = "; ".join(f"{field}: {reason}" for field, reason in fields.items())
    detail = any_pb2.Any()
    detail.Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=field, description=reason
                )
                for field, reason in fields.items()
            ]
        )
    )
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message=message, details=[detail]
    )
    context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("abort_with_status returned")  # pragma: no cover


@contextmanager
def _translated(context: grpc.ServicerContext) -> Iterator[None]:
    """Map the core's errors to status codes; anything else is INTERNAL, logged."""
    try:
        yield
    except InvalidSla as exc:
        _abort_invalid(context, exc.fields)
    except SlaNotFound as exc:
        context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
    except VersionConflict as exc:
        context.abort(grpc.StatusCode.ABORTED, str(exc))
    except (SourceUnavailable, StoreUnavailable) as exc:
        log.warning("dependency unavailable: %s", exc)
        context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
    except Exception:
        log.exception("an SLA manager call failed unexpectedly")
        context.abort(grpc.StatusCode.INTERNAL, "internal error; see the server log")


def _duration(
    context: grpc.ServicerContext,
    field: str,
    text: str,
    default: int | None,
    limit: int,
) -> int:
    """Seconds of ``text``; ``default`` when empty, refused if that is None."""
    if not text:
        if default is None:
            _abort_invalid(context, {field: "empty; give a duration such as 1h"})
        return default
    try:
        seconds = parse_duration(text)
    except InvalidDuration as exc:
        _abort_invalid(context, {field: str(exc)})
    if seconds > limit:
        _abort_invalid(context, {field: f"{text} is longer than the {limit} s allowed"})
    return seconds


def _check_size(context: grpc.ServicerContext, request: object) -> None:
    size = getattr(request, "ByteSize", lambda: 0)()
    if size > MAX_REQUEST_BYTES:
        _abort_invalid(
            context,
            {"request": f"{size} bytes; at most {MAX_REQUEST_BYTES} are accepted"},
        )


class SlaManagerServicer(pb_grpc.SlaManagerServicer):
    """Serves the SLA manager's use cases over gRPC.

    Args:
        definitions: apply, get, list and delete SLAs; the SLA set.
        judgement: past violations.
        predictions: status and predictions, and their scores.
        clock: the time stamped on reports.
        console: what the web console reads (``SlaConsoleQueries``).
    """

    def __init__(
        self,
        definitions: SlaDefinitions,
        judgement: SlaJudgement,
        predictions: PredictionService,
        clock: Clock,
        console: SlaConsoleSource,
    ) -> None:
        self._definitions = definitions
        self._judgement = judgement
        self._predictions = predictions
        self._clock = clock
        self._console = console

    def _run(self, context: grpc.ServicerContext, call: Callable[[], T]) -> T:
        with _translated(context):
            return call()
        raise AssertionError("unreachable")  # pragma: no cover

    def ApplySla(  # noqa: N802 - the name is the RPC's
        self, request: pb.ApplySlaRequest, context: grpc.ServicerContext
    ) -> pb.ApplySlaResponse:
        """Validate everything, then create or replace."""
        _check_size(context, request)
        if not request.HasField("sla"):
            _abort_invalid(context, {"sla": "missing"})
        draft = convert.draft_from_message(request.sla)
        expected = (
            request.expected_version if request.HasField("expected_version") else None
        )
        only = request.validate_only
        sla, changed = self._run(
            context, lambda: self._definitions.apply(draft, expected, only)
        )
        return pb.ApplySlaResponse(sla=convert.sla_message(sla), changed=changed)

    def GetSla(  # noqa: N802
        self, request: pb.GetSlaRequest, context: grpc.ServicerContext
    ) -> pb.Sla:
        """One SLA."""
        sla = self._run(context, lambda: self._definitions.get(request.name))
        return convert.sla_message(sla)

    def ListSlas(  # noqa: N802
        self, request: pb.ListSlasRequest, context: grpc.ServicerContext
    ) -> pb.ListSlasResponse:
        """Every SLA."""
        slas = self._run(context, self._definitions.list_slas)
        return pb.ListSlasResponse(slas=[convert.sla_message(s) for s in slas])

    def DeleteSla(  # noqa: N802
        self, request: pb.DeleteSlaRequest, context: grpc.ServicerContext
    ) -> pb.DeleteSlaResponse:
        """Delete one SLA."""
        expected = (
            request.expected_version if request.HasField("expected_version") else None
        )
        self._run(context, lambda: self._definitions.delete(request.name, expected))
        return pb.DeleteSlaResponse()

    def GetViolations(  # noqa: N802
        self, request: pb.GetViolationsRequest, context: grpc.ServicerContext
    ) -> pb.ViolationsReport:
        """Past violations over each window."""
        if len(request.windows) > MAX_WINDOWS:
            _abort_invalid(context, {"windows": f"at most {MAX_WINDOWS} windows"})
        limit = self._definitions.limits.max_window_seconds
        windows = (
            tuple(
                _duration(context, f"windows[{i}]", text, None, limit)
                for i, text in enumerate(request.windows)
            )
            or DEFAULT_WINDOWS
        )
        at = self._clock.now()
        return self._run(
            context,
            lambda: convert.violations_message(
                request.name, at, self._judgement.violations(request.name, windows)
            ),
        )

    def _prediction(
        self, context: grpc.ServicerContext, name: str, horizon: int
    ) -> pb.PredictionReport:
        return self._run(
            context,
            lambda: convert.prediction_message(
                self._predictions.predict(name, horizon), horizon
            ),
        )

    def PredictViolations(  # noqa: N802
        self, request: pb.PredictViolationsRequest, context: grpc.ServicerContext
    ) -> pb.PredictionReport:
        """Predicted violations over the horizon."""
        horizon = _duration(
            context, "horizon", request.horizon, DEFAULT_HORIZON, MAX_HORIZON_SECONDS
        )
        return self._prediction(context, request.name, horizon)

    def GetStatus(  # noqa: N802
        self, request: pb.GetStatusRequest, context: grpc.ServicerContext
    ) -> pb.PredictionReport:
        """Status now, with the default horizon's prediction."""
        return self._prediction(context, request.name, DEFAULT_HORIZON)

    def ScorePredictions(  # noqa: N802
        self, request: pb.ScorePredictionsRequest, context: grpc.ServicerContext
    ) -> pb.PredictionScoreReport:
        """How the recorded predictions fared."""
        lookback = _duration(
            context,
            "lookback",
            request.lookback,
            DEFAULT_SCORE_LOOKBACK,
            self._definitions.limits.max_window_seconds,
        )
        at = self._clock.now()

        def scored() -> pb.PredictionScoreReport:
            sla = self._definitions.get(request.name)
            scores = self._predictions.score(request.name, lookback)
            return convert.scores_message(sla, at, lookback, scores)

        return self._run(context, scored)

    def ListForecastTargets(  # noqa: N802
        self, request: pb.ListForecastTargetsRequest, context: grpc.ServicerContext
    ) -> pb.ListForecastTargetsResponse:
        """The selectors the ETL must forecast."""
        selectors = self._run(context, self._definitions.forecast_targets)
        return pb.ListForecastTargetsResponse(
            selectors=[s.to_promql() for s in selectors]
        )

    def GetStateSnapshot(  # noqa: N802
        self, request: pb.GetStateSnapshotRequest, context: grpc.ServicerContext
    ) -> pb.StateSnapshot:
        """The last SLO state snapshot."""
        return self._run(
            context, lambda: console_convert.snapshot_message(self._console.snapshot())
        )

    def _console_range(self, context: grpc.ServicerContext, text: str) -> int:
        limit = self._definitions.limits.max_window_seconds
        return _duration(context, "range", text, None, limit)

    def _max_series(self, context: grpc.ServicerContext, asked: int) -> int:
        if not 0 <= asked <= MAX_CONSOLE_SERIES:
            _abort_invalid(
                context, {"max_series": f"{asked}: give 0 to {MAX_CONSOLE_SERIES}"}
            )
        return asked

    def GetSlaRange(  # noqa: N802
        self, request: pb.GetSlaRangeRequest, context: grpc.ServicerContext
    ) -> pb.SlaRange:
        """One SLA over a range, for the console's detail page."""
        seconds = self._console_range(context, request.range)
        shown = self._max_series(context, request.max_series)
        return self._run(
            context,
            lambda: console_convert.sla_range_message(
                self._console.sla_range(request.name, seconds, shown)
            ),
        )

    def GetBurnDown(  # noqa: N802
        self, request: pb.GetBurnDownRequest, context: grpc.ServicerContext
    ) -> pb.BurnDown:
        """One objective's burn-down, for the console's budget page."""
        seconds = self._console_range(context, request.range)
        shown = self._max_series(context, request.max_series)
        if not 1 <= request.points <= MAX_BURN_POINTS:
            _abort_invalid(
                context, {"points": f"{request.points}: give 1 to {MAX_BURN_POINTS}"}
            )
        return self._run(
            context,
            lambda: console_convert.burn_down_message(
                self._console.burn_down(
                    request.name, request.objective, seconds, request.points, shown
                )
            ),
        )
