"""The project's services as real child processes: start, wait, stop, read logs.

Each service runs the ``monitoring`` console script with its own environment
(the test's ``MONITORING_*`` settings never leak in from the caller's shell);
its standard output and error go to files, whose tails every failure message
shows.
"""

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import attrs
import requests

from tests.support.grpc import monitoring_command, wait_until_serving

__all__ = [
    "Service",
    "Stopped",
    "base_environment",
    "eventually",
    "logs_of",
    "start_service",
    "stop_all",
    "wait_for_grpc",
    "wait_for_http",
]

T = TypeVar("T")
TAIL = 3000


def base_environment() -> dict[str, str]:
    """The caller's environment without any ``MONITORING_*`` setting (the
    ``MONITORING_TEST_*`` server addresses aside) or a multiprocess folder."""
    return {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("MONITORING_") and not k.startswith("MONITORING_TEST_"))
        and k != "PROMETHEUS_MULTIPROC_DIR"
    }


@attrs.frozen
class Stopped:
    """How a service ended after its stop signal."""

    name: str
    code: int | None
    """The exit code; None when it had to be killed."""
    seconds: float


@attrs.define(eq=False)
class Service:
    """A running ``monitoring <command>`` and where its output goes."""

    name: str
    process: "subprocess.Popen[bytes]"
    stdout: Path
    stderr: Path

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def tail(self, chars: int = TAIL) -> str:
        """The last characters of its standard error and output."""
        parts = [f"--- {self.name} (pid {self.process.pid}, {self._state()}) ---"]
        for path in (self.stderr, self.stdout):
            text = path.read_text(errors="replace") if path.exists() else ""
            if text.strip():
                parts.append(f"[{path.name}]\n{text[-chars:]}")
        return "\n".join(parts)

    def _state(self) -> str:
        code = self.process.poll()
        return "running" if code is None else f"exited {code}"

    def signal(self, signum: int) -> None:
        """Send a signal unless it already ended."""
        if self.alive():
            self.process.send_signal(signum)

    def wait(self, timeout: float) -> int | None:
        """Its exit code, or None when it is still running after ``timeout``."""
        try:
            return self.process.wait(timeout=max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """End it for sure (teardown after a failure)."""
        if self.alive():
            self.process.kill()
        self.process.wait()


def start_service(
    name: str, args: Iterable[str], env: Mapping[str, str], folder: Path
) -> Service:
    """Start ``monitoring ARGS`` with ``env`` on top of ``base_environment()``.

    Its output goes to ``folder/<name>.stdout.log`` and ``<name>.stderr.log``;
    it runs in ``folder`` so a relative default (a SQLite file) lands there.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stdout, stderr = folder / f"{name}.stdout.log", folder / f"{name}.stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [monitoring_command(), *args],
            env={**base_environment(), **env},
            stdout=out,
            stderr=err,
            cwd=folder,
        )
    return Service(name=name, process=process, stdout=stdout, stderr=stderr)


def logs_of(services: Iterable[Service], chars: int = TAIL) -> str:
    """The tails of every service's logs, for a failure message."""
    return "\n".join(s.tail(chars) for s in services)


def _check_alive(services: Iterable[Service]) -> None:
    dead = [s for s in services if not s.alive()]
    if dead:
        names = ", ".join(s.name for s in dead)
        raise AssertionError(f"{names} ended early:\n{logs_of(dead)}")


def eventually(
    check: Callable[[], T],
    *,
    timeout: float,
    what: str,
    services: Iterable[Service] = (),
    interval: float = 1.0,
) -> T:
    """Call ``check`` until it returns without an AssertionError.

    Fails at once when one of ``services`` ended, and after ``timeout`` seconds
    with the last assertion message and the services' logs.
    """
    watched = list(services)
    deadline = time.monotonic() + timeout
    while True:
        _check_alive(watched)
        try:
            return check()
        except (AssertionError, requests.RequestException) as exc:
            last: Exception = exc
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"{what}: still failing after {timeout:.0f}s: {last}\n"
                f"{logs_of(watched)}"
            ) from last
        time.sleep(interval)


def wait_for_http(
    url: str, services: Iterable[Service], timeout: float = 60
) -> requests.Response:
    """Poll ``url`` until it answers 200; the services must stay up meanwhile."""

    def check() -> requests.Response:
        response = requests.get(url, timeout=5)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        return response

    return eventually(
        check, timeout=timeout, what=f"GET {url}", services=services, interval=0.25
    )


def wait_for_grpc(address: str, service: Service, timeout: float = 60) -> None:
    """Poll the gRPC health check of ``service`` at ``address`` until SERVING."""
    wait_until_serving(
        address, timeout=timeout, alive=service.alive, describe=service.tail
    )


def stop_all(
    services: Iterable[Service], signum: int = signal.SIGTERM, within: float = 30
) -> list[Stopped]:
    """Signal every service at once, then give each ``within`` seconds to exit.

    A service still running then is killed and reported with code None.
    """
    chosen = list(services)
    started = time.monotonic()
    for service in chosen:
        service.signal(signum)
    ended = []
    for service in chosen:
        code = service.wait(started + within - time.monotonic())
        seconds = time.monotonic() - started
        if code is None:
            service.kill()
        ended.append(Stopped(name=service.name, code=code, seconds=seconds))
    return ended
