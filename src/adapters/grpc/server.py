"""A gRPC server for the SLA manager: auth, TLS, health and reflection."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from concurrent import futures
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.grpc.generated import sla_manager_pb2_grpc as pb_grpc
from adapters.grpc.service import MAX_REQUEST_BYTES

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SlaManager"].full_name
OPEN_METHODS = frozenset(
    {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}
)
"""Callable without a token, so that orchestrators can probe the server."""


@attrs.frozen(kw_only=True)
class TlsFiles:
    """PEM files of the server's certificate chain and private key."""

    cert: Path
    key: Path

    def credentials(self) -> grpc.ServerCredentials:
        """Server credentials read from the files."""
        return grpc.ssl_server_credentials(
            [(self.key.read_bytes(), self.cert.read_bytes())]
        )


def _deny(message: str) -> Handler:
    def abort(_request: Any, context: grpc.ServicerContext) -> None:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    return grpc.unary_unary_rpc_method_handler(abort)


def bearer_token(value: str | bytes) -> bytes | None:
    """The token of ``Bearer <token>``; the scheme is case-insensitive (RFC 7235)."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    scheme, _, token = text.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip(" "):
        return None
    return token.strip(" ").encode("latin-1", "replace")


class BearerTokenInterceptor(grpc.ServerInterceptor):
    """Refuses calls whose ``authorization`` metadata is not ``Bearer <token>``."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode()

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        """Pass the call on when the token matches (compared in constant time)."""
        if handler_call_details.method in OPEN_METHODS:
            return continuation(handler_call_details)
        metadata = dict(handler_call_details.invocation_metadata or ())
        given = metadata.get("authorization", "")
        if not given:
            return _deny("missing bearer token (authorization metadata)")
        token = bearer_token(given)
        if token is None or not hmac.compare_digest(token, self._expected):
            return _deny("invalid bearer token")
        return continuation(handler_call_details)


@attrs.define
class SlaServer:
    """A started server and its health service."""

    server: grpc.Server
    health: health.HealthServicer
    port: int

    def stop(self, grace_seconds: float) -> None:
        """Report NOT_SERVING, then let running calls finish within the grace."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_seconds).wait()


def start_server(
    servicer: pb_grpc.SlaManagerServicer,
    address: str,
    *,
    token: str | None = None,
    tls: TlsFiles | None = None,
    workers: int = 8,
    interceptors: Sequence[grpc.ServerInterceptor] = (),
) -> SlaServer:
    """Start serving ``servicer`` on ``address`` (``host:port``, port 0 = any).

    Raises:
        RuntimeError: the address could not be bound.
    """
    chain: list[grpc.ServerInterceptor] = [*interceptors]
    if token:
        chain.append(BearerTokenInterceptor(token))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        interceptors=chain,
        options=[("grpc.max_receive_message_length", 4 * MAX_REQUEST_BYTES)],
    )
    pb_grpc.add_SlaManagerServicer_to_server(servicer, server)
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    if tls is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, tls.credentials())
    if port == 0:
        raise RuntimeError(f"cannot listen on {address}")
    server.start()
    for name in ("", SERVICE_NAME):
        checker.set(name, health_pb2.HealthCheckResponse.SERVING)
    return SlaServer(server=server, health=checker, port=port)
