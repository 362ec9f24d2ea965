"""Shared bits of the gRPC tests: health probes, certificates, tokens, a server.

``free_port`` is the one of ``tests.support.prometheus``, re-exported here.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from tests.support.prometheus import free_port

__all__ = [
    "SERVING",
    "BearerToken",
    "CertFiles",
    "free_port",
    "health_status",
    "monitoring_command",
    "reflected_services",
    "running_sla_manager",
    "self_signed_certificate",
    "wait_until_serving",
]

SERVING = health_pb2.HealthCheckResponse.SERVING


@attrs.frozen
class CertFiles:
    """PEM files of a certificate and its private key."""

    cert: Path
    key: Path


def self_signed_certificate(
    folder: Path,
    name: str = "server",
    dns: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = ("127.0.0.1",),
) -> CertFiles:
    """A self-signed EC certificate made by ``openssl``, valid for two days.

    Its subjectAltName holds every ``dns`` name and ``ips`` address, so it is
    its own CA: give ``cert`` to a client as the root to trust.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = CertFiles(cert=folder / f"{name}.crt", key=folder / f"{name}.key")
    san = ",".join([*(f"DNS:{d}" for d in dns), *(f"IP:{i}" for i in ips)])
    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make test certificates"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={dns[0] if dns else name}",
            "-addext",
            f"subjectAltName={san}",
            "-keyout",
            str(files.key),
            "-out",
            str(files.cert),
        ],
        check=True,
        capture_output=True,
    )
    return files


def health_status(
    address: str,
    *,
    service: str = "",
    credentials: grpc.ChannelCredentials | None = None,
    timeout: float = 2.0,
) -> int:
    """The ``grpc.health.v1`` status of ``service``, asked without any token.

    Raises:
        grpc.RpcError: the server could not be reached or refused.
    """
    channel = (
        grpc.secure_channel(address, credentials)
        if credentials is not None
        else grpc.insecure_channel(address)
    )
    with channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        response = stub.Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout
        )
    status: int = response.status
    return status


def wait_until_serving(
    address: str,
    *,
    timeout: float = 60,
    credentials: grpc.ChannelCredentials | None = None,
    alive: Callable[[], bool] = lambda: True,
    describe: Callable[[], str] = lambda: "",
) -> None:
    """Poll the health check until it says SERVING.

    Raises:
        AssertionError: ``alive()`` turned false, or not SERVING in time; the
            message ends with ``describe()`` (a log, say).
    """
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not alive():
            raise AssertionError(f"the server died before serving: {describe()}")
        try:
            status = health_status(address, credentials=credentials, timeout=1)
        except grpc.RpcError as error:
            last = str(error)
        else:
            if status == SERVING:
                return
            last = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
        time.sleep(0.1)
    raise AssertionError(f"{address} not SERVING in {timeout}s ({last}): {describe()}")


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: Any


class _Details(_CallDetails, grpc.ClientCallDetails):
    pass


class BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds ``authorization: Bearer <token>`` to every call of a channel, for
    clients that take a channel but no metadata (the reflection database)."""

    def __init__(self, token: str) -> None:
        self._pair = ("authorization", f"Bearer {token}")

    def _details(self, details: Any) -> _Details:
        return _Details(
            details.method,
            details.timeout,
            [*(details.metadata or ()), self._pair],
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(
        self, continuation: Any, client_call_details: Any, request: Any
    ) -> Any:
        """Call on with the token added."""
        return continuation(self._details(client_call_details), request)

    def intercept_stream_stream(
        self, continuation: Any, client_call_details: Any, request_iterator: Any
    ) -> Any:
        """Call on with the token added."""
        return continuation(self._details(client_call_details), request_iterator)


def reflected_services(channel: grpc.Channel) -> list[str]:
    """The full names of the services that server reflection lists."""
    return sorted(ProtoReflectionDescriptorDatabase(channel).get_services())


def monitoring_command() -> str:
    """The ``monitoring`` console script of the running interpreter's venv."""
    beside = Path(sys.executable).with_name("monitoring")
    if beside.exists():
        return str(beside)
    found = shutil.which("monitoring")
    assert found, "the monitoring console script is not installed (pip install -e .)"
    return found


@contextlib.contextmanager
def running_sla_manager(
    env: dict[str, str], log: Path, timeout: float = 60, stop_within: float = 10
) -> Iterator["subprocess.Popen[bytes]"]:
    """``monitoring sla-manager`` in a child process, SERVING on its port.

    ``env`` must hold ``MONITORING_GRPC_PORT``; the server's output goes to
    ``log``. On exit the server gets SIGTERM and must exit 0 within
    ``stop_within`` seconds.
    """
    address = f"127.0.0.1:{env['MONITORING_GRPC_PORT']}"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [monitoring_command(), "sla-manager"],
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(
            address,
            timeout=timeout,
            alive=lambda: process.poll() is None,
            describe=lambda: log.read_text()[-3000:],
        )
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=stop_within)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(
                f"sla-manager still running {stop_within}s after SIGTERM: "
                f"{log.read_text()[-3000:]}"
            ) from None
    assert code == 0, f"sla-manager exited {code}: {log.read_text()[-3000:]}"
