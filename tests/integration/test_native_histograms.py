"""Native histograms on a real Prometheus: observation rates, or skipped and counted.

A private Prometheus with ``--enable-feature=native-histograms`` scrapes a
target of this test that exposes, in Prometheus' protobuf format (the only one
that carries native histograms to Prometheus 2.x), one native histogram and one
gauge. The protobuf is written by hand: the wire format is small and stable.
"""

import contextlib
import http.server
import itertools
import logging
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
import requests

from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, ValueKind
from tests.support.prometheus import free_port
from tests.support.servers import binary

PROTOBUF = (
    "application/vnd.google.protobuf; "
    "proto=io.prometheus.client.MetricFamily; encoding=delimited"
)
NATIVE, GAUGE = "demo_latency_seconds", "demo_temperature_celsius"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _bytes(number: int, payload: bytes) -> bytes:
    return _field(number, 2) + _varint(len(payload)) + payload


def _double(number: int, value: float) -> bytes:
    return _field(number, 1) + struct.pack("<d", value)


def _uint(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint(value)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _family(name: str, kind: int, metric: bytes) -> bytes:
    """MetricFamily{name=1, help=2, type=3, metric=4}, length-delimited."""
    body = _bytes(1, name.encode()) + _bytes(2, b"demo") + _uint(3, kind)
    body += _bytes(4, _bytes(1, _bytes(1, b"source") + _bytes(2, b"test")) + metric)
    return _varint(len(body)) + body


def exposition(n: int) -> bytes:
    """A native histogram with two buckets of ``n`` observations, and a gauge."""
    histogram = (
        _uint(1, 2 * n)  # sample_count
        + _double(2, 0.3 * n)  # sample_sum
        + _field(5, 0)
        + _varint(_zigzag(0))  # schema 0: bucket bounds are powers of 2
        + _double(6, 1e-128)  # zero_threshold
        + _bytes(12, _uint(1, _zigzag(0)) + _uint(2, 2))  # positive span
        + _bytes(13, _varint(_zigzag(n)) + _varint(_zigzag(0)))  # deltas
    )
    gauge = _bytes(2, _double(1, 21.5))
    return _family(NATIVE, 4, _bytes(7, histogram)) + _family(GAUGE, 1, gauge)


@contextlib.contextmanager
def _target() -> Iterator[str]:
    scrapes = itertools.count(1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exposition(next(scrapes))
            self.send_response(200)
            self.send_header("Content-Type", PROTOBUF)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _prometheus(folder: Path, target: str) -> Iterator[str]:
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n"
        f"  - job_name: native\n    static_configs:\n"
        f'      - targets: ["{target}"]\n'
    )
    port = free_port()
    with (folder / "prometheus.log").open("w") as log:
        process = subprocess.Popen(
            [
                binary("prometheus", "/usr/bin/prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--enable-feature=native-histograms",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_for_samples(url: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    query = f"count_over_time({NATIVE}[1m])"
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, KeyError, IndexError):
            answer = requests.get(
                f"{url}/api/v1/query", params={"query": query}, timeout=2
            ).json()
            if float(answer["data"]["result"][0]["value"][1]) >= count:
                return
        time.sleep(0.5)
    pytest.fail(f"no {count} native histogram samples in {timeout}s at {url}")


@pytest.fixture(scope="module")
def native_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _target() as target, _prometheus(tmp_path_factory.mktemp("nh"), target) as url:
        _wait_for_samples(url, 5)
        yield url


def _reference(http: PrometheusHttp, expr: str, at: datetime) -> float:
    (item,) = http.query(expr, at)
    return float(item["value"][1])


def test_a_typed_native_histogram_is_analysed_as_its_observation_rate(
    native_prometheus: str,
) -> None:
    http = PrometheusHttp(native_prometheus, 10)
    at = datetime.now(UTC)
    assert "histogram" in http.query(NATIVE, at)[0], "really a native histogram"
    source = PrometheusMetricSource(http, rate_seconds=4, resolution_seconds=1)
    found = source.discover([parse_selector(NATIVE)], at - timedelta(minutes=1), at)
    assert [(i.kind, i.value_kind) for i in found] == [
        (MetricKind.HISTOGRAM, ValueKind.PER_SECOND_RATE)
    ]
    (stats,) = source.window_stats(found, (30,), at)
    (window,) = stats.windows
    rate = f"histogram_count(rate({NATIVE}[4s]))[30s:1s]"
    for stat in ("min", "max", "avg", "stddev", "last", "count"):
        expected = _reference(http, f"{stat}_over_time({rate})", at)
        assert getattr(window, stat) == pytest.approx(expected, rel=1e-9), stat
    assert window.avg is not None and window.avg > 0
    end = datetime.fromtimestamp(at.timestamp() // 1, UTC)
    (history,) = source.history(found, end - timedelta(seconds=20), end, 1)
    (reference,) = http.query_range(
        f"histogram_count(rate({NATIVE}[4s]))", end.timestamp() - 20, end.timestamp(), 1
    )
    expected_values = [float(v) for _, v in reference["values"]]
    assert history.measured() == pytest.approx(expected_values, rel=1e-9)


def test_an_untyped_native_histogram_is_skipped_with_a_logged_count(
    native_prometheus: str, caplog: pytest.LogCaptureFixture
) -> None:
    http = PrometheusHttp(native_prometheus, 10)
    source = PrometheusMetricSource(http, rate_seconds=4, resolution_seconds=1)
    at = datetime.now(UTC)
    found = source.discover(
        [parse_selector('{source="test"}')], at - timedelta(minutes=1), at
    )
    assert {i.key.name: i.kind for i in found} == {
        NATIVE: MetricKind.HISTOGRAM,
        GAUGE: MetricKind.GAUGE,
    }
    # As discovery classifies it without metadata (federated data): by name.
    untyped = [attrs.evolve(i, kind=MetricKind.GAUGE) for i in found]
    with caplog.at_level(logging.WARNING, "adapters.prometheus.metric_source"):
        stats = source.window_stats(untyped, (30,), at)
        histories = source.history(untyped, at - timedelta(seconds=30), at, 1)
    assert [s.series.name for s in stats] == [GAUGE]
    assert stats[0].windows[0].avg == 21.5
    assert [h.series.name for h in histories] == [GAUGE]
    assert [r.getMessage() for r in caplog.records] == [
        "window statistics: skipped 1 native histogram series (not analysed, ADR 0016)",
        "histories: skipped 1 native histogram series (not analysed, ADR 0016)",
    ]
