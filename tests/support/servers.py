"""Where the integration tests find real servers.

Order: servers named by ``MONITORING_TEST_*`` variables; else containers when a
Docker engine answers; else the project's ``scripts/services.sh``. A server that
cannot be had is a test failure, never a skip.
"""

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def _services_env() -> dict[str, str]:
    """Start the local servers (idempotent) and read the variables they print."""
    script = ROOT / "scripts" / "services.sh"
    subprocess.run([str(script), "up"], check=True)
    out = subprocess.run(
        [str(script), "env"], check=True, capture_output=True, text=True
    ).stdout
    pairs = (
        line.removeprefix("export ").split("=", 1)
        for line in out.splitlines()
        if "=" in line
    )
    return {k: v for k, v in pairs}


@contextlib.contextmanager
def server(name: str, container: str | None = None) -> Iterator[str]:
    """The address of a server, from the environment, Docker or the script."""
    variable = f"MONITORING_TEST_{name}"
    if variable in os.environ:
        yield os.environ[variable]
        return
    if container and _docker_available():
        with _container(container) as address:
            yield address
            return
    try:
        found = _services_env().get(variable)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"no {name} server: scripts/services.sh failed: {exc}")
    if not found:
        pytest.fail(f"no {name} server: set {variable} or run scripts/services.sh up")
    os.environ[variable] = found
    yield found


@contextlib.contextmanager
def _container(kind: str) -> Iterator[str]:
    if kind == "kafka":
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
    else:  # mysql
        from testcontainers.mysql import MySqlContainer

        with MySqlContainer("mysql:8.4", dbname="monitoring") as db:
            yield db.get_connection_url()


def binary(name: str, default: str) -> str:
    """Path of a server binary such as prometheus or promtool."""
    path = os.environ.get(f"MONITORING_TEST_{name.upper()}_BIN") or shutil.which(name)
    if not path:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            _services_env()  # installs the Debian packages
        path = shutil.which(name) or default
    if not Path(path).exists():
        pytest.fail(f"{name} not found; run scripts/services.sh install")
    return path
