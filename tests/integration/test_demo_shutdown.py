"""`make demo` as a user runs it: Ctrl-C stops what the demo started, nothing else.

The demo (``bash scripts/demo.sh``) runs in its own session, on free ports and
with its servers' data in a temporary folder, so that it never meets the
servers ``make test`` runs. Every process it starts inherits a marker variable;
after SIGINT to its process group (what a terminal's Ctrl-C does) no process
with that marker may be left. Servers that were up before the demo must still
be up, the same processes, afterwards.
"""

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.grpc import monitoring_command
from tests.support.processes import base_environment
from tests.support.prometheus import free_port
from tests.support.servers import ROOT, binary, server

pytestmark = pytest.mark.timeout(240)

READY_WITHIN = 90.0
STOP_WITHIN = 90.0


def marked(marker: str) -> dict[int, str]:
    """Every live process whose environment holds ``DEMO_TEST_MARK=marker``."""
    found = {}
    needle = f"DEMO_TEST_MARK={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if command:  # a zombie has none: it is gone, only not reaped
                    found[int(entry.name)] = command.decode(errors="replace")
    return found


def serving(port: int) -> bool:
    with contextlib.suppress(requests.RequestException):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)
        return True
    return False


class Demo:
    """``bash scripts/demo.sh`` in its own session with a private environment."""

    def __init__(self, folder: Path, **settings: str) -> None:
        self.folder = folder
        self.marker = uuid.uuid4().hex
        self.api_port = free_port()
        self.log = folder / f"demo-{self.marker[:8]}.log"
        self.env = {
            **base_environment(),
            "DEMO_TEST_MARK": self.marker,
            "MONITORING_BIN": monitoring_command(),
            "MONITORING_API_PORT": str(self.api_port),
            "MONITORING_GRPC_PORT": str(free_port()),
            "MONITORING_ETL_METRICS_PORT": "0",
            "MONITORING_SLA_METRICS_PORT": "0",
            "MONITORING_STORAGE_PORT": "0",
            "MONITORING_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
            "MONITORING_SERIES_SELECTORS": '{job="node"}',
            "MONITORING_DEMO_SAMPLES": "1",
            **settings,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def start(self) -> None:
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                ["bash", "scripts/demo.sh"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, like a terminal job
            )

    def wait_serving(self) -> None:
        """Until `monitoring run` answers HTTP (so everything was started)."""
        assert self.process is not None
        deadline = time.monotonic() + READY_WITHIN
        while not serving(self.api_port):
            assert self.process.poll() is None, f"demo exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"demo not up:\n{self.output()}"
            time.sleep(0.5)

    def interrupt(self, signum: int = signal.SIGINT, group: bool = True) -> int:
        """SIGINT to the demo's process group (or ``signum`` to it alone); its
        exit code."""
        assert self.process is not None
        (os.killpg if group else os.kill)(self.process.pid, signum)
        try:
            return self.process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise AssertionError(f"demo still running:\n{self.output()}") from None

    def kill_leftovers(self) -> None:
        for pid in marked(self.marker):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running(demo: Demo) -> Iterator[Demo]:
    demo.start()
    try:
        yield demo
    finally:
        demo.kill_leftovers()


def prometheus_start_time(url: str) -> str:
    answer = requests.get(f"{url}/api/v1/status/runtimeinfo", timeout=5)
    answer.raise_for_status()
    return str(answer.json()["data"]["startTime"])


@pytest.fixture(scope="module", autouse=True)
def servers_installed() -> None:
    binary("prometheus", "/usr/bin/prometheus")  # installs them if missing
    assert Path("/usr/bin/prometheus-node-exporter").exists()


def test_ctrl_c_stops_the_demo_and_the_servers_it_started(tmp_path: Path) -> None:
    prometheus_port, exporter_port = free_port(), free_port()
    demo = Demo(
        tmp_path,
        MONITORING_SERVICES_DIR=str(tmp_path / "services"),
        MONITORING_PROMETHEUS_PORT=str(prometheus_port),
        MONITORING_NODE_EXPORTER_PORT=str(exporter_port),
    )
    with running(demo):
        demo.wait_serving()
        before = marked(demo.marker)
        commands = " ".join(before.values())
        assert "/usr/bin/prometheus " in commands, before
        assert (
            f"prometheus-node-exporter --web.listen-address=127.0.0.1:{exporter_port}"
            in (commands)
        ), before
        assert " run" in commands and "scripts/demo.sh" in commands, before

        code = demo.interrupt()

        left = marked(demo.marker)
        assert left == {}, f"left running: {left}\n{demo.output()}"
    assert code == 130, demo.output()
    out = demo.output()
    assert "demo: stopping node-exporter prometheus (started by the demo)" in out
    assert "left running" not in out
    assert "Traceback" not in out
    assert not serving(prometheus_port) and not serving(exporter_port)
    assert not serving(demo.api_port)


def test_servers_running_before_the_demo_stay_up(tmp_path: Path) -> None:
    """Like `make services-up` then `make demo`: the same servers, untouched."""
    ports = {
        "MONITORING_SERVICES_DIR": str(tmp_path / "services"),
        "MONITORING_PROMETHEUS_PORT": str(free_port()),
        "MONITORING_NODE_EXPORTER_PORT": str(free_port()),
    }
    script = str(ROOT / "scripts" / "services.sh")
    env = {**base_environment(), **ports}
    subprocess.run([script, "up", "node-exporter", "prometheus"], env=env, check=True)
    try:
        pids = {
            name: (tmp_path / "services" / "run" / f"{name}.pid").read_text().strip()
            for name in ("node-exporter", "prometheus")
        }
        url = f"http://127.0.0.1:{ports['MONITORING_PROMETHEUS_PORT']}"
        started_at = prometheus_start_time(url)
        demo = Demo(tmp_path, **ports)
        with running(demo):
            demo.wait_serving()
            assert demo.interrupt() == 130, demo.output()
            assert marked(demo.marker) == {}, demo.output()
        out = demo.output()
        assert (
            "demo: left running (up before the demo): node-exporter prometheus; "
            "stop with: make services-down"
        ) in out
        assert "stopping" not in out
        for name, pid in pids.items():
            assert Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) was stopped"
        assert prometheus_start_time(url) == started_at
    finally:
        subprocess.run([script, "down"], env=env, check=True)


def test_a_prometheus_given_by_url_is_left_alone(tmp_path: Path) -> None:
    with server("PROMETHEUS_URL") as url:
        started_at = prometheus_start_time(url)
        demo = Demo(
            tmp_path,
            MONITORING_PROMETHEUS_URL=url,
            # Never used: the demo must not start servers when given a URL.
            MONITORING_SERVICES_DIR=str(tmp_path / "services"),
        )
        with running(demo):
            demo.wait_serving()
            assert "services:" not in demo.output()
            assert demo.interrupt() == 130, demo.output()
            assert marked(demo.marker) == {}, demo.output()
        assert f"demo: {url} was given by MONITORING_PROMETHEUS_URL" in demo.output()
        assert not (tmp_path / "services").exists()
        assert prometheus_start_time(url) == started_at


def started_servers_demo(tmp_path: Path, **settings: str) -> Demo:
    return Demo(
        tmp_path,
        MONITORING_SERVICES_DIR=str(tmp_path / "services"),
        MONITORING_PROMETHEUS_PORT=str(free_port()),
        MONITORING_NODE_EXPORTER_PORT=str(free_port()),
        **settings,
    )


def test_sigterm_to_the_script_alone_stops_everything_it_started(
    tmp_path: Path,
) -> None:
    """`kill PID` of the demo (a service manager, a CI job): forwarded, not lost."""
    demo = started_servers_demo(tmp_path)
    with running(demo):
        demo.wait_serving()
        assert demo.interrupt(signal.SIGTERM, group=False) == 143, demo.output()
        assert marked(demo.marker) == {}, demo.output()
    out = demo.output()
    assert "received SIGTERM" in out, out
    assert "demo: stopping node-exporter prometheus (started by the demo)" in out


def test_ctrl_c_while_waiting_for_samples_stops_the_servers_at_once(
    tmp_path: Path,
) -> None:
    demo = started_servers_demo(tmp_path, MONITORING_DEMO_SAMPLES="1000000")
    with running(demo):
        deadline = time.monotonic() + READY_WITHIN
        while "waiting for" not in demo.output():
            assert time.monotonic() < deadline, demo.output()
            time.sleep(0.2)
        started = time.monotonic()
        assert demo.interrupt() == 130, demo.output()
        assert time.monotonic() - started < 5, "the trap waited for a sleep"
        assert marked(demo.marker) == {}, demo.output()
    out = demo.output()
    assert "demo: stopping node-exporter prometheus (started by the demo)" in out
    assert "monitoring run" not in out
