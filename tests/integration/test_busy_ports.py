"""A port already taken stops a service with one line naming the address, never a
traceback (issue 11: the SLA manager crashed with a traceback when 9466 was in use).

The port is really taken (a listening socket of this test), and the services run
as a user runs them: the ``monitoring`` console script in a subprocess.
"""

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.grpc import monitoring_command
from tests.support.processes import base_environment


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _start(
    command: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [monitoring_command(), command],
        env={**base_environment(), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("command", "setting", "what"),
    [
        ("sla-manager", "MONITORING_SLA_METRICS_PORT", "/metrics"),
        ("etl", "MONITORING_ETL_METRICS_PORT", "/metrics"),
        ("storage", "MONITORING_STORAGE_PORT", "/healthz and /metrics"),
        ("run", "MONITORING_API_PORT", "the REST API"),
    ],
)
def test_a_taken_port_is_one_line_and_exit_1(
    tmp_path: Path,
    taken_port: int,
    kafka_bootstrap: str,
    command: str,
    setting: str,
    what: str,
) -> None:
    env = {
        "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "MONITORING_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "MONITORING_GRPC_PORT": "0",
        "MONITORING_SLA_METRICS_PORT": "0",
        "MONITORING_ETL_METRICS_PORT": "0",
        "MONITORING_STORAGE_PORT": "0",
        "MONITORING_API_PORT": "0",
        setting: str(taken_port),
    }
    result = _start(command, env, tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    expected = (
        f"monitoring {command}: cannot start: cannot listen on "
        f"127.0.0.1:{taken_port} for {what}: address already in use"
    )
    assert expected in result.stderr.splitlines()
