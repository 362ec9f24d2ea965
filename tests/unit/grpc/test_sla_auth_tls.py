"""Issue #5, criterion 5: the SLA manager's bearer token, TLS, health checks and
reflection, on real servers on loopback (certificates made by ``openssl``)."""

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from adapters.grpc.client import SlaCallError, SlaClient
from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.grpc.generated import sla_manager_pb2_grpc as pb_grpc
from adapters.grpc.server import SERVICE_NAME, SlaServer, TlsFiles, start_server
from adapters.grpc.service import SlaManagerServicer
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from monitoring_core.series import SeriesKey
from tests.support import factories
from tests.support.grpc import (
    SERVING,
    BearerToken,
    CertFiles,
    health_status,
    reflected_services,
    self_signed_certificate,
)
from tests.support.sla_services import sla_services

TOKEN = "s3cret-Token_with.punctuation~"
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
SLA = pb.Sla(
    name="node-health",
    objectives=[pb.Objective(selector="node_load1", hi=4.0, target=0.99, window="1h")],
)
CALLS: list[tuple[str, Callable[[SlaClient], Any]]] = [
    ("apply", lambda c: c.apply(SLA)),
    ("get", lambda c: c.get("node-health")),
    ("list", lambda c: c.list_slas()),
    ("delete", lambda c: c.delete("node-health")),
    ("status", lambda c: c.status("node-health")),
    ("violations", lambda c: c.violations("node-health", ["1h"])),
    ("predict", lambda c: c.predict("node-health", "10m")),
    ("forecast-targets", lambda c: c.forecast_targets()),
]


def _servicer() -> SlaManagerServicer:
    clock = FixedClock(factories.NOW)
    source = InMemoryMetricSource()
    now = factories.NOW.timestamp()
    source.add(SeriesKey.of("node_load1"), [(now - 60 * m, 1.0) for m in range(60)])
    manager = sla_services(
        InMemorySlaRepository(clock), source, source, InMemoryResultStore(), clock
    )
    return manager.servicer(clock)


@contextlib.contextmanager
def _serving(token: str | None = None, tls: CertFiles | None = None) -> Iterator[int]:
    """A server on a free loopback port; yields the port."""
    files = None if tls is None else TlsFiles(cert=tls.cert, key=tls.key)
    server: SlaServer = start_server(_servicer(), "127.0.0.1:0", token=token, tls=files)
    try:
        yield server.port
    finally:
        server.stop(0)


def _code(call: Callable[[SlaClient], Any], client: SlaClient) -> grpc.StatusCode:
    with pytest.raises(SlaCallError) as caught:
        call(client)
    return caught.value.code


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CertFiles]:
    """The server's certificate, a stranger's, and one naming another host."""
    folder = tmp_path_factory.mktemp("certs")
    return {
        "server": self_signed_certificate(folder, "server"),
        "stranger": self_signed_certificate(folder, "stranger"),
        "elsewhere": self_signed_certificate(
            folder, "elsewhere", dns=("elsewhere.test",), ips=()
        ),
    }


@pytest.fixture
def port() -> Iterator[int]:
    """A plaintext server that wants the token."""
    with _serving(token=TOKEN) as port:
        yield port


@pytest.fixture
def tls_port(certs: dict[str, CertFiles]) -> Iterator[int]:
    """A TLS server that wants the token."""
    with _serving(token=TOKEN, tls=certs["server"]) as port:
        yield port


# -- the token ---------------------------------------------------------------


@pytest.mark.parametrize(("_", "call"), CALLS, ids=[n for n, _ in CALLS])
def test_every_call_without_a_token_is_unauthenticated(
    port: int, _: str, call: Callable[[SlaClient], Any]
) -> None:
    with SlaClient(f"127.0.0.1:{port}", timeout_seconds=5) as client:
        assert _code(call, client) is UNAUTHENTICATED


@pytest.mark.parametrize(
    "token",
    [
        "wrong",
        TOKEN + "x",
        TOKEN[:-1],
        TOKEN.upper(),
        "x" * 512,
    ],
)
def test_a_wrong_token_is_unauthenticated_and_changes_nothing(
    port: int, token: str
) -> None:
    with SlaClient(f"127.0.0.1:{port}", token=token, timeout_seconds=5) as client:
        assert _code(lambda c: c.apply(SLA), client) is UNAUTHENTICATED
        assert _code(lambda c: c.list_slas(), client) is UNAUTHENTICATED
    with SlaClient(f"127.0.0.1:{port}", token=TOKEN, timeout_seconds=5) as client:
        assert client.list_slas() == []


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(f"bearer {TOKEN}", id="lower-case-scheme"),
        pytest.param(f"BEARER {TOKEN}", id="upper-case-scheme"),
        pytest.param(f"Bearer  {TOKEN}", id="two-spaces"),
    ],
)
def test_the_bearer_scheme_is_case_insensitive(port: int, value: str) -> None:
    """RFC 7235 section 2.1: auth-scheme is case-insensitive, then 1*SP."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.SlaManagerStub(channel)
        answer = stub.ListSlas(
            pb.ListSlasRequest(), metadata=(("authorization", value),), timeout=5
        )
        assert list(answer.slas) == []
        with pytest.raises(grpc.RpcError) as caught:
            stub.ApplySla(
                pb.ApplySlaRequest(sla=SLA),
                metadata=(("authorization", value.lower()),),
                timeout=5,
            )
        assert caught.value.code() is UNAUTHENTICATED
        assert caught.value.details() == "invalid bearer token"
        assert (
            list(
                stub.ListSlas(
                    pb.ListSlasRequest(),
                    metadata=(("authorization", value),),
                    timeout=5,
                ).slas
            )
            == []
        )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(TOKEN, id="no-scheme"),
        pytest.param(f"Basic {TOKEN}", id="basic"),
        pytest.param(f"Bearer{TOKEN}", id="no-space"),
        pytest.param("Bearer ", id="empty-token"),
        pytest.param("", id="empty"),
    ],
)
def test_only_a_bearer_header_is_accepted(port: int, value: str) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.SlaManagerStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListSlas(
                pb.ListSlasRequest(), metadata=(("authorization", value),), timeout=5
            )
        assert caught.value.code() is UNAUTHENTICATED
        answer = stub.ListSlas(
            pb.ListSlasRequest(),
            metadata=(("authorization", f"Bearer {TOKEN}"),),
            timeout=5,
        )
        assert list(answer.slas) == []


def test_with_the_right_token_every_call_works(port: int) -> None:
    with SlaClient(f"127.0.0.1:{port}", token=TOKEN, timeout_seconds=5) as client:
        applied = client.apply(SLA)
        assert applied.changed and applied.sla.version == 1
        assert [s.name for s in client.list_slas()] == ["node-health"]
        assert client.get("node-health").version == 1
        assert [s.to_promql() for s in client.forecast_targets()] == ["node_load1"]
        assert client.violations("node-health", ["1h"]).name == "node-health"
        assert client.predict("node-health", "10m").horizon == "10m"
        assert client.status("node-health").name == "node-health"
        client.delete("node-health")
        assert client.list_slas() == []


def test_without_a_configured_token_no_token_is_needed() -> None:
    with (
        _serving() as port,
        SlaClient(f"127.0.0.1:{port}", timeout_seconds=5) as client,
    ):
        assert client.apply(SLA).changed


# -- health ------------------------------------------------------------------


@pytest.mark.parametrize("service", ["", SERVICE_NAME])
def test_the_health_check_needs_no_token(port: int, service: str) -> None:
    assert SERVICE_NAME == "monitoring.sla.v1.SlaManager"
    assert health_status(f"127.0.0.1:{port}", service=service) == SERVING


def test_health_watch_needs_no_token(port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        stream = stub.Watch(
            health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5
        )
        first = next(iter(stream))
        stream.cancel()
    assert first.status == SERVING


def test_the_health_of_an_unknown_service_is_not_found(port: int) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        health_status(f"127.0.0.1:{port}", service="no.such.Service")
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


# -- reflection --------------------------------------------------------------


def test_reflection_lists_the_sla_manager() -> None:
    with _serving() as port, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        assert reflected_services(channel) == sorted(
            [
                "grpc.health.v1.Health",
                "grpc.reflection.v1alpha.ServerReflection",
                "monitoring.sla.v1.SlaManager",
            ]
        )
        pool = DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        service = pool.FindServiceByName("monitoring.sla.v1.SlaManager")
        assert {m.name for m in service.methods} == {
            "ApplySla",
            "GetSla",
            "ListSlas",
            "DeleteSla",
            "GetStatus",
            "GetViolations",
            "PredictViolations",
            "ListForecastTargets",
            "ScorePredictions",
            "GetStateSnapshot",
            "GetSlaRange",
            "GetBurnDown",
        }
        objective = pool.FindMessageTypeByName("monitoring.sla.v1.Objective")
        assert objective.fields_by_name["lo"].has_presence


def test_reflection_behind_a_token_wants_the_token(port: int) -> None:
    address = f"127.0.0.1:{port}"
    with grpc.insecure_channel(address) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            reflected_services(channel)
        assert caught.value.code() is UNAUTHENTICATED
    with grpc.intercept_channel(
        grpc.insecure_channel(address), BearerToken(TOKEN)
    ) as channel:
        assert SERVICE_NAME in reflected_services(channel)


# -- TLS ---------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_client_trusting_the_certificate_connects(
    tls_port: int, certs: dict[str, CertFiles], host: str
) -> None:
    with SlaClient(
        f"{host}:{tls_port}",
        token=TOKEN,
        ca_file=certs["server"].cert,
        timeout_seconds=5,
    ) as client:
        assert client.apply(SLA).changed
        assert [s.name for s in client.list_slas()] == ["node-health"]


def test_tls_does_not_replace_the_token(
    tls_port: int, certs: dict[str, CertFiles]
) -> None:
    for token in (None, "wrong"):
        with SlaClient(
            f"127.0.0.1:{tls_port}",
            token=token,
            ca_file=certs["server"].cert,
            timeout_seconds=5,
        ) as client:
            assert _code(lambda c: c.list_slas(), client) is UNAUTHENTICATED


def test_a_plaintext_client_cannot_talk_to_a_tls_server(tls_port: int) -> None:
    with SlaClient(f"127.0.0.1:{tls_port}", token=TOKEN, timeout_seconds=5) as client:
        assert _code(lambda c: c.list_slas(), client) is grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.RpcError) as caught:
        health_status(f"127.0.0.1:{tls_port}")
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    "trust",
    [
        pytest.param({"ca": "stranger"}, id="another-ca"),
        pytest.param({"tls": True}, id="system-roots"),
    ],
)
def test_a_client_not_trusting_the_certificate_fails(
    tls_port: int, certs: dict[str, CertFiles], trust: dict[str, Any]
) -> None:
    ca: Path | None = certs[trust["ca"]].cert if "ca" in trust else None
    with (
        SlaClient(
            f"127.0.0.1:{tls_port}",
            token=TOKEN,
            ca_file=ca,
            tls=trust.get("tls", False),
            timeout_seconds=5,
        ) as client,
        pytest.raises(SlaCallError) as caught,
    ):
        client.list_slas()
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
    assert f"cannot reach the SLA manager at 127.0.0.1:{tls_port}" in str(caught.value)


def test_a_certificate_must_name_the_address_unless_overridden(
    certs: dict[str, CertFiles],
) -> None:
    elsewhere = certs["elsewhere"]
    with _serving(token=TOKEN, tls=elsewhere) as port:
        address = f"127.0.0.1:{port}"
        with SlaClient(
            address, token=TOKEN, ca_file=elsewhere.cert, timeout_seconds=5
        ) as client:
            assert _code(lambda c: c.list_slas(), client) is (
                grpc.StatusCode.UNAVAILABLE
            )
        with SlaClient(
            address,
            token=TOKEN,
            ca_file=elsewhere.cert,
            server_name="elsewhere.test",
            timeout_seconds=5,
        ) as client:
            assert client.list_slas() == []


def test_health_and_reflection_over_tls(
    tls_port: int, certs: dict[str, CertFiles]
) -> None:
    address = f"127.0.0.1:{tls_port}"
    roots = grpc.ssl_channel_credentials(certs["server"].cert.read_bytes())
    assert health_status(address, credentials=roots) == SERVING
    # gRPC's standard token credentials send the same "Bearer" header.
    with_token = grpc.composite_channel_credentials(
        roots, grpc.access_token_call_credentials(TOKEN)
    )
    with grpc.secure_channel(address, with_token) as channel:
        assert SERVICE_NAME in reflected_services(channel)
