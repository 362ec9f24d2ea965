"""A client of the SLA manager: token, TLS, and errors as one readable line."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.grpc.generated import sla_manager_pb2_grpc as pb_grpc
from monitoring_core.errors import SlaManagerUnavailable
from monitoring_core.selectors import Selector, parse_selector_list

T = TypeVar("T")


class SlaCallError(SlaManagerUnavailable):
    """A call failed; ``code`` is the gRPC status, ``fields`` any bad fields."""

    def __init__(
        self, code: grpc.StatusCode, message: str, fields: dict[str, str]
    ) -> None:
        self.code = code
        self.fields = fields
        super().__init__(message)


def _field_violations(error: grpc.Call) -> dict[str, str]:
    status: Any = rpc_status.from_call(error)
    fields: dict[str, str] = {}
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.update({v.field: v.description for v in bad.field_violations})
    return fields


def _explained(address: str, error: grpc.RpcError) -> SlaCallError:
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = error.details() if isinstance(error, grpc.Call) else str(error)
    fields: dict[str, str] = (
        _field_violations(error) if isinstance(error, grpc.Call) else {}
    )
    if code is grpc.StatusCode.UNAVAILABLE and "failed to connect" in (details or ""):
        details = f"cannot reach the SLA manager at {address} ({details})"
    return SlaCallError(code, f"{code.name.lower()}: {details}", fields)


class SlaClient:
    """Calls the SlaManager service.

    Args:
        address: ``host:port``.
        token: sent as ``authorization: Bearer <token>`` when given.
        ca_file: PEM roots to verify the server with; implies TLS.
        tls: use TLS with the system's roots (when no ``ca_file``).
        timeout_seconds: deadline of each call.
        server_name: override the name checked in the server's certificate.
        reconnect_seconds: the longest wait between attempts to reconnect
            once the server was unreachable (None: gRPC's default, 120 s);
            a long-lived reader sets a few seconds to recover soon.
    """

    def __init__(
        self,
        address: str,
        *,
        token: str | None = None,
        ca_file: Path | None = None,
        tls: bool = False,
        timeout_seconds: float = 30.0,
        server_name: str | None = None,
        reconnect_seconds: float | None = None,
    ) -> None:
        self.address = address
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout_seconds
        options: list[tuple[str, str | int]] = (
            [("grpc.ssl_target_name_override", server_name)] if server_name else []
        )
        if reconnect_seconds is not None:
            wait = max(1, round(reconnect_seconds * 1000))
            options += [
                ("grpc.initial_reconnect_backoff_ms", min(wait, 1000)),
                ("grpc.max_reconnect_backoff_ms", wait),
            ]
        if ca_file is not None or tls:
            roots = ca_file.read_bytes() if ca_file is not None else None
            credentials = grpc.ssl_channel_credentials(root_certificates=roots)
            self._channel = grpc.secure_channel(address, credentials, options)
        else:
            self._channel = grpc.insecure_channel(address, options)
        self._stub = pb_grpc.SlaManagerStub(self._channel)

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def __enter__(self) -> "SlaClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise _explained(self.address, error) from None

    def apply(
        self,
        sla: pb.Sla,
        expected_version: int | None = None,
        validate_only: bool = False,
    ) -> pb.ApplySlaResponse:
        """Create or replace an SLA (or only check that it would be accepted)."""
        request = pb.ApplySlaRequest(sla=sla, validate_only=validate_only)
        if expected_version is not None:
            request.expected_version = expected_version
        response: pb.ApplySlaResponse = self._call(self._stub.ApplySla, request)
        return response

    def get(self, name: str) -> pb.Sla:
        """One SLA."""
        found: pb.Sla = self._call(self._stub.GetSla, pb.GetSlaRequest(name=name))
        return found

    def list_slas(self) -> list[pb.Sla]:
        """Every SLA."""
        response = self._call(self._stub.ListSlas, pb.ListSlasRequest())
        return list(response.slas)

    def delete(self, name: str, expected_version: int | None = None) -> None:
        """Delete an SLA."""
        request = pb.DeleteSlaRequest(name=name)
        if expected_version is not None:
            request.expected_version = expected_version
        self._call(self._stub.DeleteSla, request)

    def status(self, name: str) -> pb.PredictionReport:
        """Status of every objective."""
        report: pb.PredictionReport = self._call(
            self._stub.GetStatus, pb.GetStatusRequest(name=name)
        )
        return report

    def violations(self, name: str, windows: Sequence[str] = ()) -> pb.ViolationsReport:
        """Past violations over each window (server defaults when empty)."""
        request = pb.GetViolationsRequest(name=name, windows=list(windows))
        report: pb.ViolationsReport = self._call(self._stub.GetViolations, request)
        return report

    def predict(self, name: str, horizon: str = "") -> pb.PredictionReport:
        """Predicted violations over the horizon (server default when empty)."""
        request = pb.PredictViolationsRequest(name=name, horizon=horizon)
        report: pb.PredictionReport = self._call(self._stub.PredictViolations, request)
        return report

    def score(self, name: str, lookback: str = "") -> pb.PredictionScoreReport:
        """How recorded predictions fared (server default lookback when empty)."""
        request = pb.ScorePredictionsRequest(name=name, lookback=lookback)
        report: pb.PredictionScoreReport = self._call(
            self._stub.ScorePredictions, request
        )
        return report

    def forecast_targets(self) -> list[Selector]:
        """The selectors of every objective (the SLA set)."""
        response = self._call(
            self._stub.ListForecastTargets, pb.ListForecastTargetsRequest()
        )
        return parse_selector_list("\n".join(response.selectors))

    def state_snapshot(self) -> pb.StateSnapshot:
        """The last SLO state snapshot (the console's overview)."""
        found: pb.StateSnapshot = self._call(
            self._stub.GetStateSnapshot, pb.GetStateSnapshotRequest()
        )
        return found

    def sla_range(self, name: str, range_: str, max_series: int) -> pb.SlaRange:
        """One SLA over a range (the console's detail page)."""
        request = pb.GetSlaRangeRequest(name=name, range=range_, max_series=max_series)
        found: pb.SlaRange = self._call(self._stub.GetSlaRange, request)
        return found

    def burn_down(
        self, name: str, objective: int, range_: str, points: int, max_series: int
    ) -> pb.BurnDown:
        """One objective's burn-down (the console's budget page)."""
        request = pb.GetBurnDownRequest(
            name=name,
            objective=objective,
            range=range_,
            points=points,
            max_series=max_series,
        )
        found: pb.BurnDown = self._call(self._stub.GetBurnDown, request)
        return found
