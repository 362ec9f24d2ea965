"""Issue 14, criterion 3: the generated rules in a real Prometheus and Alertmanager.

A private Prometheus holds three hours of backfilled samples ending now (two
series leaving a two-sided range on both sides, with gaps) and evaluates the
rules ``monitoring sla rules`` writes. Its recorded SLI must equal the SLA
manager's SLI for the same window at the same instant, within one slice (the
manager judges the same Prometheus through its own adapters). It also scrapes
a small exporter of this test that plays the SLA manager's gauges, and sends
its alerts to the Alertmanager of ``scripts/services.sh``, whose one receiver is
a webhook on a fixed loopback port served here: ``SLOPredictedBreach`` must be
delivered with its labels, then its resolution.
"""

import contextlib
import fcntl
import json
import math
import random
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from adapters.grpc.convert import draft_from_message
from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from adapters.prometheus.sample_source import PrometheusSampleSource
from apps.cli import main
from apps.sla.sla_files import SlaDocument, read_slas
from monitoring_core.series import SeriesKey
from tests.support.prometheus import backfill, free_port
from tests.support.servers import binary, server
from tests.support.sla_dataset import to_openmetrics
from tests.support.sla_services import sla_services

pytestmark = pytest.mark.timeout(150)

NAME = "alerting-test"
SLA = f"""\
name: {NAME}
objectives:
  - selector: 'app_queue_depth{{job="alerting-test"}}'
    lo: 10
    hi: 100
    target: 0.99
    window: 1d
    slice: 30s
  - selector: 'app_queue_depth{{job="alerting-test"}}'
    hi: 100
    target: 0.99
    window: 1h
    slice: 10s
alerting:
  predicted_breach:
    probability: 0.5
    for: 0s
"""
# burn_rate_windows(1d, 30s): 2m/30s, 12m/1m, 48m/4m and 2h24m/12m
COMPARED = {"48m": 48 * 60, "2h24m": 144 * 60}
SLICE = 30
HISTORY = 3 * 3600


def _series(instance: str, now_ms: int, rng: random.Random) -> list[tuple[int, float]]:
    """Every 15 s (+250 ms) for three hours: 50, with bad minutes on both sides,
    a few on the bounds exactly (good) and a silent stretch (unmeasured)."""
    samples = []
    start = now_ms - HISTORY * 1000
    for t in range(start - start % 15_000 + 250, now_ms, 15_000):
        minute = (t - start) // 60_000
        if 100 <= minute < 104 and instance == "b":
            continue  # four silent minutes
        roll = rng.random()
        value = 150.0 if roll < 0.02 else 5.0 if roll < 0.04 else 50.0
        if 0.04 <= roll < 0.05:
            value = rng.choice((10.0, 100.0))
        samples.append((t, value))
    return samples


class _Exporter(BaseHTTPRequestHandler):
    """The SLA manager's gauges, as this test sets them."""

    probability = 0.9

    def do_GET(self) -> None:
        body = (
            "# TYPE monitoring_sla_predicted_bad_slice_probability_ratio gauge\n"
            "monitoring_sla_predicted_bad_slice_probability_ratio"
            f'{{sla="{NAME}",objective="1",horizon="10m"}} {_Exporter.probability}\n'
            "# TYPE monitoring_sla_refresh_timestamp_seconds gauge\n"
            f"monitoring_sla_refresh_timestamp_seconds {time.time()}\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


class _Webhook(BaseHTTPRequestHandler):
    """Alertmanager's webhook receiver: keeps every notification."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", 0))
        _Webhook.received.append(json.loads(self.rfile.read(size)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@contextlib.contextmanager
def _http(handler: type[BaseHTTPRequestHandler], port: int) -> Iterator[None]:
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def _webhook_port(port: int) -> Iterator[None]:
    """The fixed port, one test run at a time (other checkouts run this too)."""
    with open(f"/tmp/monitoring-alertmanager-webhook-{port}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with _http(_Webhook, port):
            yield


@contextlib.contextmanager
def _prometheus(
    folder: Path, rules: Path, alertmanager: str, run: str
) -> Iterator[str]:
    exporter = free_port()
    config = folder / "prometheus.yml"
    config.write_text(
        f"global:\n  scrape_interval: 1s\n  external_labels: {{test_run: '{run}'}}\n"
        f"rule_files: ['{rules}']\n"
        "alerting:\n  alertmanagers:\n    - static_configs:\n"
        f"        - targets: ['{alertmanager.removeprefix('http://')}']\n"
        "scrape_configs:\n  - job_name: sla-manager\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter}']\n"
    )
    port = free_port()
    log = (folder / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary("prometheus", "/usr/bin/prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=3650d",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with _http(_Exporter, exporter):
            _wait(lambda: _ready(url, process), 30, "prometheus ready")
            yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _ready(url: str, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, "prometheus exited"
    with contextlib.suppress(requests.RequestException):
        return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
    return False


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"no {what} within {timeout} s")


def _recorded(url: str, window: str) -> list[dict[str, Any]]:
    query = f'monitoring:sla_sli:{window}{{sla="{NAME}",objective="0"}}[5m]'
    answer = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=10)
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def _manager(
    url: str, at: float, window: int
) -> dict[str, tuple[float, int, int, int]]:
    """The SLA manager's SLI and measured slices per instance at time ``at``,
    judged through its own Prometheus adapters."""
    http = PrometheusHttp(url, 30)
    clock = FixedClock(datetime.fromtimestamp(at, UTC))
    manager = sla_services(
        repository=InMemorySlaRepository(clock),
        source=PrometheusMetricSource(http),
        samples=PrometheusSampleSource(http),
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    sla = pb.Sla()
    for document in read_slas_text(SLA):
        sla = document.sla
    manager.definitions.apply(draft_from_message(sla))
    (judged, *_) = manager.judgement.violations(NAME, [window])
    (per_window,) = judged.windows
    return {
        s.series.label_map["instance"]: (
            s.report.sli or 0.0,
            s.report.measured_slices,
            s.report.above_slices,
            s.report.below_slices,
        )
        for s in per_window.series
    }


def read_slas_text(text: str) -> list[SlaDocument]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        file.write(text)
        file.flush()
        return read_slas(file.name)


@pytest.fixture(scope="module")
def alertmanager() -> Iterator[str]:
    with server("ALERTMANAGER_URL") as url:
        yield url


def test_generated_rules_agree_with_the_manager_and_alerts_reach_a_webhook(
    tmp_path: Path, alertmanager: str
) -> None:
    now_ms = int(time.time() * 1000)
    rng = random.Random(14)
    data = {
        SeriesKey.of("app_queue_depth", {"job": NAME, "instance": i}): _series(
            i, now_ms, rng
        )
        for i in ("a", "b")
    }
    backfill(to_openmetrics(data), tmp_path / "data")
    (tmp_path / "sla.yaml").write_text(SLA)
    rules = tmp_path / "rules.yml"
    assert (
        main(["sla", "rules", "-f", str(tmp_path / "sla.yaml"), "-o", str(rules)]) == 0
    )
    run = uuid.uuid4().hex[:12]
    port = int(_env_port())
    _Exporter.probability = 0.9
    with _webhook_port(port), _prometheus(tmp_path, rules, alertmanager, run) as url:
        fired = _wait(lambda: _notification(run, "firing"), 60, "firing alert")
        _Exporter.probability = 0.1
        resolved = _wait(lambda: _notification(run, "resolved"), 60, "resolution")
        for window, seconds in COMPARED.items():
            _compare(url, window, seconds)
    assert fired["labels"] == {
        "alertname": "SLOPredictedBreach",
        "severity": "ticket",
        "sla": NAME,
        "objective": "1",
        "horizon": "10m",
        "job": "sla-manager",
        "instance": fired["labels"]["instance"],
        "test_run": run,
    }
    assert fired["annotations"]["sla_url"].endswith(f"/ui/slas/{NAME}")
    assert resolved["labels"] == fired["labels"]
    assert resolved["endsAt"] >= fired["startsAt"]


def _env_port() -> str:
    with server("ALERTMANAGER_WEBHOOK_PORT") as port:
        return port


def _notification(run: str, status: str) -> dict[str, Any] | None:
    for message in list(_Webhook.received):
        for alert in message["alerts"]:
            labels = alert["labels"]
            if (
                labels.get("test_run") == run
                and labels.get("alertname") == "SLOPredictedBreach"
                and alert["status"] == status
            ):
                found: dict[str, Any] = alert
                return found
    return None


def _compare(url: str, window: str, seconds: int) -> None:
    recorded = _wait(lambda: _recorded(url, window), 60, f"recorded SLI {window}")
    assert {r["metric"]["instance"] for r in recorded} == {"a", "b"}
    for series in recorded:
        at, value = series["values"][-1]
        manager = _manager(url, float(at), seconds)
        sli, measured, above, below = manager[series["metric"]["instance"]]
        assert measured > 0.9 * seconds / SLICE - 8, "most slices measured"
        assert above > 0 and below > 0, "bad slices on both sides"
        # Tolerance: one slice of the window (the acceptance's); expected exact.
        assert abs(float(value) - sli) <= 1 / measured + 1e-12, (window, at)
        assert math.isclose(float(value), sli, abs_tol=1e-9), (window, at)
