"""The chaos suite's world: private servers and the services, each its own process.

Everything a trial stops or kills is private to this run: a MariaDB and a Kafka
started by ``scripts/services.sh`` in their own folder on free ports, a
Prometheus of its own scraping a small exporter served from this process
(``hosts`` targets of ``metrics`` gauges each, a fixed and known series set),
and the four services as ``monitoring <service>`` child processes, each in its
own session so that a kill -9 takes its whole process group (the API's
gunicorn workers with their master). The shared servers are never touched.
"""

import contextlib
import http.server
import math
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support.grpc import SERVING, health_status, monitoring_command

ROOT = Path(__file__).resolve().parents[1]
SERVICES_SH = ROOT / "scripts" / "services.sh"
HOST = "127.0.0.1"
TOPIC = "chaos-results"
DEAD_LETTERS = "chaos-results.dl"
STORAGE_GROUP = "chaos-storage"
SCRAPE_SECONDS = 5
NO_PROXY = {"http": "", "https": ""}


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.1) -> bool:
    """Whether ``check`` held within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return True
        except Exception:  # a server still starting: keep asking
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(every)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """``GET url`` answers 200 (loopback, never through a proxy)."""
    try:
        return requests.get(url, timeout=timeout, proxies=NO_PROXY).status_code == 200
    except requests.RequestException:
        return False


class Exporter:
    """``/metrics?host=hNN``: ``metrics`` gauges of one host, smooth and noisy."""

    def __init__(self, metrics: int) -> None:
        self.metrics = metrics
        self.port = 0
        self._server: http.server.ThreadingHTTPServer | None = None

    def body(self, host: str) -> str:
        now = time.time()
        seed = sum(host.encode())
        lines = []
        for m in range(self.metrics):
            value = 10 + m + math.sin(now / (60 + 7 * m) + seed) + (seed * m % 7) / 10
            lines += [f"# TYPE chaos_m{m:02d} gauge", f"chaos_m{m:02d} {value:.6f}"]
        return "\n".join(lines) + "\n"

    def __enter__(self) -> "Exporter":
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                data = exporter.body(query.get("host", ["h00"])[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Proc:
    """One child process in its own session; logs appended to ``folder/name.log``."""

    name: str
    argv: list[str]
    env: dict[str, str]
    folder: Path
    popen: "subprocess.Popen[bytes] | None" = None
    starts: int = 0
    pids: list[int] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts} at {time.time():.3f}\n".encode())
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )
        self.pids.append(self.popen.pid)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def kill9(self) -> None:
        """SIGKILL to the whole process group, and wait for the leader."""
        if self.popen is not None:
            self.signal_group(signal.SIGKILL)
            self.popen.wait()

    def stop(self, within: float = 30) -> None:
        """SIGTERM, then SIGKILL after ``within`` seconds; the group either way."""
        if self.popen is None:
            return
        self.signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=within)
        self.signal_group(signal.SIGKILL)  # stray children of a stopped leader
        self.popen.wait()

    def tail(self, chars: int = 2000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ---\n{text[-chars:]}"


def service_environment(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without its ``MONITORING_*``, plus ``extra``."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MONITORING_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    return {**base, **extra}


@dataclass
class Settings:
    """The topology's knobs."""

    cycle_seconds: int = 10
    hosts: int = 12
    metrics: int = 20
    etl_workers: int = 3
    storage_instances: int = 2
    folder: Path = Path("/tmp/monitoring-chaos")
    code: Path | None = None
    """The ``src`` folder the services run from (PYTHONPATH); None: the
    installed checkout."""


@dataclass
class World:
    """Private servers and the services, started and stopped together."""

    settings: Settings
    mariadb_port: int = field(default_factory=free_port)
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    prometheus_port: int = field(default_factory=free_port)
    procs: dict[str, Proc] = field(default_factory=dict)
    prometheus: Proc | None = None

    @property
    def pids(self) -> list[int]:
        """Every process started so far (each start of each service)."""
        every = [*self.procs.values(), *([self.prometheus] if self.prometheus else [])]
        return [pid for proc in every for pid in proc.pids]

    @property
    def folder(self) -> Path:
        return self.settings.folder

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def database(self) -> str:
        return (
            f"mysql+pymysql://monitoring:monitoring@{HOST}:{self.mariadb_port}"
            "/monitoring"
        )

    @property
    def api(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def grpc(self) -> str:
        return f"{HOST}:{self.grpc_port}"

    @property
    def prometheus_url(self) -> str:
        return f"http://{HOST}:{self.prometheus_port}"

    # ------------------------------------------------------------ servers ---

    def services_sh(self, *args: str) -> None:
        """``scripts/services.sh ARGS`` on the private folder and ports."""
        env = {
            **os.environ,
            "MONITORING_SERVICES_DIR": str(self.folder / "servers"),
            "MONITORING_MARIADB_PORT": str(self.mariadb_port),
            "MONITORING_KAFKA_PORT": str(self.kafka_port),
            "MONITORING_KAFKA_CONTROLLER_PORT": str(self.controller_port),
        }
        done = subprocess.run(
            ["bash", str(SERVICES_SH), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"services.sh {' '.join(args)} failed: {done.stderr}")

    def start_prometheus(self, exporter: Exporter) -> None:
        folder = self.folder / "prometheus"
        folder.mkdir(parents=True, exist_ok=True)
        targets = "".join(
            f"      - targets: ['{HOST}:{exporter.port}']\n"
            f"        labels: {{host: h{h:02d}}}\n"
            for h in range(self.settings.hosts)
        )
        (folder / "prometheus.yml").write_text(
            f"global:\n  scrape_interval: {SCRAPE_SECONDS}s\n"
            "scrape_configs:\n  - job_name: chaos\n    static_configs:\n"
            f"{targets}"
            "    relabel_configs:\n"
            "      - {source_labels: [host], target_label: __param_host}\n"
            "      - {source_labels: [host], target_label: instance}\n"
            "      - {action: labeldrop, regex: host}\n"
        )
        self.prometheus = Proc(
            "prometheus",
            [
                "/usr/bin/prometheus",
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address={HOST}:{self.prometheus_port}",
            ],
            dict(os.environ),
            folder,
        )
        self.prometheus.start()
        if not wait_until(lambda: http_ok(f"{self.prometheus_url}/-/ready"), 60):
            raise RuntimeError(f"prometheus not ready:\n{self.prometheus.tail()}")

    # ----------------------------------------------------------- services ---

    def _common(self) -> dict[str, str]:
        return {
            "MONITORING_KAFKA_BOOTSTRAP": self.bootstrap,
            "MONITORING_KAFKA_TOPIC": TOPIC,
            "MONITORING_DATABASE_URL": self.database,
            "MONITORING_PROMETHEUS_URL": self.prometheus_url,
            "MONITORING_WINDOWS": "1m",
            "MONITORING_LOG_LEVEL": "INFO",
        }

    def _etl(self, i: int) -> dict[str, str]:
        state = self.folder / f"etl-{i}" / "state" / "etl.sqlite"
        return {
            **self._common(),
            "MONITORING_SERIES_SELECTORS": '{job="chaos"}',
            "MONITORING_CYCLE_SECONDS": str(self.settings.cycle_seconds),
            "MONITORING_KAFKA_FLUSH_SECONDS": "5",
            "MONITORING_FORECAST_STEP": "5s",
            "MONITORING_FORECAST_HORIZON": "30s",
            "MONITORING_FORECAST_LOOKBACK": "10m",
            "MONITORING_METADATA_LOOKBACK": "10m",
            "MONITORING_METADATA_STEP": "15s",
            "MONITORING_METADATA_RETRY_SECONDS": "0",
            "MONITORING_ETL_METRICS_PORT": "0",
            "MONITORING_SLA_ADDRESS": self.grpc,
            "MONITORING_ETL_STATE_PATH": str(state),
            "MONITORING_ETL_INSTANCE_ID": f"chaos-etl-{i}",
            "MONITORING_ETL_GROUP": "chaos-etl",
        }

    def _storage(self) -> dict[str, str]:
        return {
            **self._common(),
            "MONITORING_STORAGE_PORT": str(free_port()),
            "MONITORING_KAFKA_GROUP": STORAGE_GROUP,
            "MONITORING_DEAD_LETTER_TOPIC": DEAD_LETTERS,
        }

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        """A service's environment: ``extra`` and the code to run."""
        code = self.settings.code
        return service_environment(
            {**extra, **({"PYTHONPATH": str(code)} if code is not None else {})}
        )

    def migrate(self) -> None:
        """``monitoring db upgrade`` on the private database."""
        done = subprocess.run(
            [monitoring_command(), "db", "upgrade"],
            env=self.environment({"MONITORING_DATABASE_URL": self.database}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"monitoring db upgrade failed: {done.stderr}")

    def define_services(self) -> None:
        command = monitoring_command()

        def add(name: str, args: list[str], env: dict[str, str]) -> None:
            self.procs[name] = Proc(
                name, [command, *args], self.environment(env), self.folder
            )

        add(
            "sla-manager",
            ["sla-manager"],
            {
                **self._common(),
                "MONITORING_GRPC_PORT": str(self.grpc_port),
                "MONITORING_SLA_METRICS_PORT": "0",
            },
        )
        for i in range(1, self.settings.storage_instances + 1):
            add(f"storage-{i}", ["storage"], self._storage())
        add(
            "api",
            ["api"],
            {
                **self._common(),
                "MONITORING_API_PORT": str(self.api_port),
                "MONITORING_API_WORKERS": "1",
            },
        )
        for i in range(1, self.settings.etl_workers + 1):
            add(f"etl-{i}", ["etl"], self._etl(i))

    def ready(self, name: str) -> bool:
        """Whether a service answers (the ETL: whether it runs)."""
        proc = self.procs[name]
        if not proc.alive():
            return False
        if name == "api":
            return http_ok(f"{self.api}/readyz")
        if name == "sla-manager":
            return bool(health_status(self.grpc) == SERVING)
        if name.startswith("storage"):
            port = proc.env["MONITORING_STORAGE_PORT"]
            return http_ok(f"http://{HOST}:{port}/healthz")
        return True

    def start_service(self, name: str, timeout: float = 60) -> None:
        self.procs[name].start()
        if not wait_until(lambda: self.ready(name), timeout, 0.2):
            raise RuntimeError(
                f"{name} not ready in {timeout}s:\n{self.procs[name].tail()}"
            )

    def stop_everything(self) -> None:
        """Every process and server of this run, whatever state it is in."""
        for proc in self.procs.values():
            proc.stop(within=15)
        if self.prometheus is not None:
            self.prometheus.stop()
        with contextlib.suppress(Exception):
            self.services_sh("down", "kafka", "mariadb")


@contextlib.contextmanager
def running_world(settings: Settings) -> Iterator[World]:
    """Private servers and the services, all stopped at the end however it ends."""
    world = World(settings)
    settings.folder.mkdir(parents=True, exist_ok=True)
    with Exporter(settings.metrics) as exporter:
        try:
            world.services_sh("up", "mariadb", "kafka")
            world.migrate()
            world.start_prometheus(exporter)
            world.define_services()
            for name in world.procs:
                world.start_service(name)
            yield world
        finally:
            world.stop_everything()
