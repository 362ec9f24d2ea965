"""Issue 11: every service listens on loopback by default and says where it listens;
a reachable API or SLA manager without a token warns; hostile requests get problems
through the real servers (gunicorn, ``monitoring run``'s WSGI server, gRPC); the
all-in-one start-up output is free of Alembic's JSON lines.

Listening sockets are read from the kernel (``/proc/net/tcp``), not from the
services' own words, and a connection to this machine's non-loopback address
must be refused.
"""

import ipaddress
import json
import re
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import requests

from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.grpc.generated import sla_manager_pb2_grpc as pb_grpc
from tests.support.grpc import monitoring_command
from tests.support.processes import (
    Service,
    base_environment,
    eventually,
    start_service,
    stop_all,
)
from tests.support.prometheus import free_port
from tests.support.servers import server

PROBLEM = "application/problem+json"
TOKEN = "Sec-ret_42"
LISTENING = "0A"
"""The TCP state ``LISTEN`` in /proc/net/tcp."""


# --- what the kernel says ---


def _ipv4(hex_address: str) -> str:
    return socket.inet_ntop(socket.AF_INET, bytes.fromhex(hex_address)[::-1])


def _ipv6(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    mapped = ipaddress.IPv6Address(words).ipv4_mapped  # gRPC binds IPv4 this way
    return str(mapped) if mapped else socket.inet_ntop(socket.AF_INET6, words)


def listening_hosts(port: int) -> set[str]:
    """The addresses a socket listens on at ``port``, from /proc/net/tcp{,6}."""
    hosts = set()
    for table, decode in (("tcp", _ipv4), ("tcp6", _ipv6)):
        path = Path("/proc/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            host, hex_port = fields[1].split(":")
            if fields[3] == LISTENING and int(hex_port, 16) == port:
                hosts.add(decode(host))
    return hosts


def other_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (``hostname -I``)."""
    try:
        found = subprocess.run(
            ["hostname", "-I"], capture_output=True, text=True, check=False
        ).stdout.split()
    except FileNotFoundError:
        return []
    return [a for a in found if "." in a and not a.startswith("127.")]


def assert_loopback_only(port: int) -> None:
    assert listening_hosts(port) == {"127.0.0.1"}, f"port {port}"
    for other in other_addresses():
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((other, port), timeout=5).close()


# --- services --------------------------------------------------------------------


def _bound(service: Service, pattern: str, timeout: float = 90) -> str:
    """The address in the first log line matching ``pattern`` (one group)."""

    def found() -> str:
        match = re.search(pattern, service.stderr.read_text(errors="replace"))
        assert match, f"no {pattern!r} in the log yet"
        return match.group(1)

    return eventually(
        found, timeout=timeout, what=pattern, services=[service], interval=0.2
    )


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def _warnings(service: Service) -> list[str]:
    """Its log lines warning about where it listens."""
    text = service.stderr.read_text(errors="replace")
    return [
        line
        for line in text.splitlines()
        if "warning" in line.lower() and "listens on" in line
    ]


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Service]]:
    """Services a test starts; all stopped (and checked to stop) at the end."""
    services: list[Service] = []
    yield services
    ended = stop_all(services, signal.SIGTERM, within=30)
    assert [s.code for s in ended] == [0] * len(ended), [s.tail() for s in services]


def _sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    subprocess.run(
        [monitoring_command(), "db", "upgrade"],
        env={**base_environment(), "MONITORING_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    return url


def _api(
    tmp_path: Path, started: list[Service], name: str, **env: str
) -> tuple[Service, str]:
    settings = {
        "MONITORING_DATABASE_URL": _sqlite(tmp_path),
        "MONITORING_API_PORT": "0",
        "MONITORING_API_WORKERS": "1",
        **env,
    }
    api = start_service(name, ["api"], settings, tmp_path / name)
    started.append(api)
    return api, _bound(api, r"REST API listening on (\S+?)\"")


# --- REST API under gunicorn ---


def test_the_api_binds_loopback_and_logs_the_real_port(
    tmp_path: Path, started: list[Service]
) -> None:
    api, address = _api(tmp_path, started, "api")
    assert address.startswith("127.0.0.1:") and _port(address) > 0
    assert_loopback_only(_port(address))
    assert _warnings(api) == []


def test_the_api_on_every_interface_without_a_token_warns_once(
    tmp_path: Path, started: list[Service]
) -> None:
    api, address = _api(tmp_path, started, "open", MONITORING_BIND_HOST="0.0.0.0")
    assert address.startswith("0.0.0.0:")
    assert listening_hosts(_port(address)) == {"0.0.0.0"}
    [warning] = _warnings(api)
    entry = json.loads(warning)
    assert entry["level"] == "warning"
    assert entry["message"] == (
        f"the REST API listens on {address} without MONITORING_API_TOKEN: "
        "anyone who can reach this address can use it"
    )


def test_the_api_on_every_interface_with_a_token_does_not_warn(
    tmp_path: Path, started: list[Service]
) -> None:
    api, _ = _api(
        tmp_path,
        started,
        "guarded",
        MONITORING_BIND_HOST="0.0.0.0",
        MONITORING_API_TOKEN=TOKEN,
    )
    assert _warnings(api) == []


def _headers(response: requests.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() != "date"}


def _head_and_get(url: str) -> tuple[requests.Response, dict[str, str]]:
    """HEAD between two GETs that agree, so that a result stored by a running
    ETL in between (a new ETag) is not taken for a HEAD that differs from GET."""
    for _ in range(10):
        before = requests.get(url, timeout=10)
        head = requests.head(url, timeout=10)
        after = requests.get(url, timeout=10)
        if _headers(before) == _headers(after):
            return head, _headers(after)
    raise AssertionError(f"{url} changed on every one of 10 tries")


def _check_hostile_http(base: str) -> None:
    """What both HTTP servers must answer, checked on the wire."""
    long = requests.get(f"{base}/v1/series/{'a' * 100_000}", timeout=10)
    assert long.status_code == 414
    assert long.headers["content-type"] == PROBLEM
    assert long.json()["status"] == 414
    over = requests.get(f"{base}/v1/series/{'a' * 8100}", timeout=10)
    assert (over.status_code, over.headers["content-type"]) == (414, PROBLEM)

    for path in ("/v1/series", "/healthz", "/openapi.json"):
        head, same = _head_and_get(f"{base}{path}")
        assert (path, head.status_code, head.content) == (path, 200, b"")
        assert _headers(head) == same

    seven = requests.get(
        f"{base}/v1/series/0123456789abcdef/values/history",
        params={"window": "7h"},
        timeout=10,
    )
    assert (seven.status_code, seven.headers["content-type"]) == (400, PROBLEM)
    assert seven.json()["parameter"] == "window"
    assert "1h, 3h, 12h" in seven.json()["detail"]

    selectors = [f'up{{instance="{i}"}}' for i in range(101)]
    many = requests.get(f"{base}/v1/series", params={"match[]": selectors}, timeout=10)
    assert (many.status_code, many.headers["content-type"]) == (400, PROBLEM)
    assert (
        many.json()["detail"] == "match[]: at most 100 selectors per request, got 101"
    )
    fine = requests.get(
        f"{base}/v1/series", params={"match[]": selectors[:100]}, timeout=10
    )
    assert fine.status_code == 200


def test_hostile_requests_through_gunicorn(
    tmp_path: Path, started: list[Service]
) -> None:
    _, address = _api(tmp_path, started, "api")
    _check_hostile_http(f"http://{address}")


def test_a_lower_case_bearer_scheme_through_gunicorn(
    tmp_path: Path, started: list[Service]
) -> None:
    _, address = _api(tmp_path, started, "api", MONITORING_API_TOKEN=TOKEN)
    url = f"http://{address}/v1/etl/runs"
    right = requests.get(url, headers={"Authorization": f"bearer {TOKEN}"}, timeout=10)
    assert right.status_code == 200
    wrong = requests.get(
        url, headers={"Authorization": f"bearer {TOKEN.lower()}"}, timeout=10
    )
    assert (wrong.status_code, wrong.headers["content-type"]) == (401, PROBLEM)
    assert wrong.json()["detail"] == "the bearer token is wrong"


# --- SLA manager (gRPC and /metrics) ---


def _sla_manager(
    tmp_path: Path, started: list[Service], **env: str
) -> tuple[Service, str, int]:
    metrics = free_port()
    settings = {
        "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'sla.db'}",
        "MONITORING_GRPC_PORT": "0",
        "MONITORING_SLA_METRICS_PORT": str(metrics),
        **env,
    }
    sla = start_service("sla-manager", ["sla-manager"], settings, tmp_path / "sla")
    started.append(sla)
    return sla, _bound(sla, r"SLA manager listening on (\S+?) \("), metrics


def test_the_sla_manager_binds_loopback(tmp_path: Path, started: list[Service]) -> None:
    sla, address, metrics = _sla_manager(tmp_path, started)
    assert address.startswith("127.0.0.1:")
    assert _bound(sla, r"serving /metrics on (\S+?)\"") == f"127.0.0.1:{metrics}"
    assert_loopback_only(_port(address))
    assert_loopback_only(metrics)
    assert _warnings(sla) == []


def test_the_sla_manager_on_every_interface_without_a_token_warns(
    tmp_path: Path, started: list[Service]
) -> None:
    sla, address, _ = _sla_manager(tmp_path, started, MONITORING_BIND_HOST="0.0.0.0")
    # gRPC turns 0.0.0.0 into its dual-stack wildcard, ::
    assert listening_hosts(_port(address)) in ({"0.0.0.0"}, {"::"})
    [warning] = _warnings(sla)
    assert json.loads(warning)["message"] == (
        f"the SLA manager listens on {address} without MONITORING_SLA_TOKEN: "
        "anyone who can reach this address can use it"
    )


def test_a_lower_case_bearer_scheme_through_the_grpc_server(
    tmp_path: Path, started: list[Service]
) -> None:
    _, address, _ = _sla_manager(tmp_path, started, MONITORING_SLA_TOKEN=TOKEN)
    sla = pb.Sla(
        name="node-health",
        objectives=[pb.Objective(selector="up", lo=1.0, target=0.9, window="1h")],
    )
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.SlaManagerStub(channel)
        wrong = (("authorization", f"bearer {TOKEN.lower()}"),)
        with pytest.raises(grpc.RpcError) as caught:
            stub.ApplySla(pb.ApplySlaRequest(sla=sla), metadata=wrong, timeout=10)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        right = (("authorization", f"bearer {TOKEN}"),)
        listed = stub.ListSlas(pb.ListSlasRequest(), metadata=right, timeout=10)
        assert list(listed.slas) == []  # the refused apply stored nothing


# --- storage and ETL (/healthz, /metrics) ---


@pytest.fixture(scope="module")
def prometheus() -> Iterator[str]:
    with server("PROMETHEUS_URL") as url:
        yield url


def test_storage_and_etl_bind_loopback(
    tmp_path: Path, started: list[Service], kafka_bootstrap: str, prometheus: str
) -> None:
    topic = f"test-{uuid.uuid4().hex[:12]}"
    shared = {"MONITORING_KAFKA_BOOTSTRAP": kafka_bootstrap}
    shared["MONITORING_KAFKA_TOPIC"] = topic
    storage_port, etl_port = free_port(), free_port()
    storage = start_service(
        "storage",
        ["storage"],
        {
            **shared,
            "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
            "MONITORING_STORAGE_PORT": str(storage_port),
        },
        tmp_path / "storage",
    )
    started.append(storage)
    etl = start_service(
        "etl",
        ["etl"],
        {
            **shared,
            "MONITORING_PROMETHEUS_URL": prometheus,
            "MONITORING_SERIES_SELECTORS": 'up{job="node"}',
            "MONITORING_FORECAST_SELECTORS": "none",
            "MONITORING_ETL_METRICS_PORT": str(etl_port),
        },
        tmp_path / "etl",
    )
    started.append(etl)
    pattern = r"serving /healthz and /metrics on (\S+?)\""
    assert _bound(storage, pattern) == f"127.0.0.1:{storage_port}"
    assert _bound(etl, r"serving /metrics on (\S+?)\"") == f"127.0.0.1:{etl_port}"
    assert_loopback_only(storage_port)
    assert_loopback_only(etl_port)


# --- monitoring run ---


def _run(
    tmp_path: Path, started: list[Service], prometheus: str, **env: str
) -> tuple[Service, str, str]:
    settings = {
        "MONITORING_PROMETHEUS_URL": prometheus,
        "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "MONITORING_SERIES_SELECTORS": 'up{job="node"}',
        "MONITORING_FORECAST_SELECTORS": "none",
        "MONITORING_API_PORT": "0",
        "MONITORING_GRPC_PORT": "0",
        **env,
    }
    run = start_service("run", ["run"], settings, tmp_path / "run")
    started.append(run)
    line = _bound(run, r"(  listening .*)")
    api, grpc_address = re.findall(r"(\S+) \((?:HTTP|gRPC)\)", line)
    return run, api, grpc_address


def test_run_binds_loopback_and_its_banner_says_where(
    tmp_path: Path, started: list[Service], prometheus: str
) -> None:
    run, api, grpc_address = _run(tmp_path, started, prometheus)
    assert_loopback_only(_port(api))
    assert_loopback_only(_port(grpc_address))
    banner = run.stderr.read_text()
    assert f"REST API   http://{api}/v1/series" in banner
    assert f"gRPC (SLA) {grpc_address}" in banner
    assert _warnings(run) == []
    _check_hostile_http(f"http://{api}")


def test_run_on_every_interface_without_tokens_warns_for_each_listener(
    tmp_path: Path, started: list[Service], prometheus: str
) -> None:
    run, api, grpc_address = _run(
        tmp_path, started, prometheus, MONITORING_BIND_HOST="::"
    )
    assert listening_hosts(_port(api)) == {"::"}
    assert api.startswith("[::]:")
    warnings = _warnings(run)
    assert len(warnings) == 2
    assert f"the REST API listens on {api} without MONITORING_API_TOKEN" in warnings[0]
    assert (
        f"SLA manager listens on {grpc_address} without MONITORING_SLA_TOKEN"
        in (warnings[1])
    )


def test_run_start_up_output_has_no_json_lines(
    tmp_path: Path, started: list[Service], prometheus: str
) -> None:
    run, _, _ = _run(tmp_path, started, prometheus)
    _bound(run, r"(cycle done)", timeout=120)
    lines = (run.stderr.read_text() + run.stdout.read_text()).splitlines()
    assert lines[0] == "monitoring run: all services in one process"
    assert [line for line in lines if line.lstrip().startswith("{")] == []
    assert not any("alembic" in line.lower() for line in lines)


@pytest.mark.parametrize(
    "env",
    [
        {"MONITORING_API_PORT": "x"},
        {"MONITORING_BIND_HOST": "localhost"},
        {"MONITORING_BIND_HOST": "every", "MONITORING_GRPC_PORT": "-1"},
    ],
)
def test_a_configuration_error_is_one_line_and_exit_2(
    tmp_path: Path, env: dict[str, str]
) -> None:
    result = subprocess.run(
        [monitoring_command(), "run"],
        env={**base_environment(), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("monitoring run: invalid configuration: ")
    for name in env:
        assert f"{name}=" in line
    assert list(tmp_path.iterdir()) == []  # no database was created


def test_db_upgrade_prints_one_plain_line(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from adapters.sql import migrate

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    head = ScriptDirectory.from_config(migrate.config(url)).get_current_head()
    env = {**base_environment(), "MONITORING_DATABASE_URL": url}
    for expected in (f"{head} (was base)", f"{head}"):
        result = subprocess.run(
            [monitoring_command(), "db", "upgrade"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0
        assert (result.stdout, result.stderr) == (
            f"database at revision {expected}\n",
            "",
        )
