"""Schemathesis against the real ``monitoring api`` on a filled SQLite database."""

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import pytest

from adapters.rest.openapi import document
from adapters.sql import migrate
from adapters.sql.result_store import sql_store
from monitoring_core.ports import Result
from monitoring_core.series import MetricKind, SeriesKey
from tests.support import factories
from tests.support.prometheus import free_port

TOKEN = "integration-token"
BIN = Path(sys.executable).parent


def sample_results(count: int) -> list[Result]:
    """``count`` series with statistics; the first also has every other result."""
    stats = factories.window_stats()
    many: list[Result] = [
        attrs.evolve(
            stats,
            series=SeriesKey.of("node_load1", {"instance": f"host-{i}"}),
            kind=MetricKind.COUNTER if i % 2 else MetricKind.GAUGE,
        )
        for i in range(count)
    ]
    rest = [factories.metadata(), factories.forecast(), factories.score()]
    runs = [factories.etl_run(), factories.sharded_etl_run()]
    return [stats, *rest, *runs, *many]


@contextlib.contextmanager
def running_api(url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``monitoring api`` on a free port until the block ends; yields its base URL."""
    port = free_port()
    settings = {
        **os.environ,
        "MONITORING_DATABASE_URL": url,
        "MONITORING_API_PORT": str(port),
        "MONITORING_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    settings.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([str(BIN / "monitoring"), "api"], env=settings)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_ready(base: str, process: "subprocess.Popen[bytes]") -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise AssertionError(f"monitoring api exited with {process.returncode}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/readyz", timeout=1) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise AssertionError("monitoring api did not become ready in 15 s")


def _requests_by_route(base: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    counts: dict[str, float] = {}
    pattern = r'monitoring_api_requests_total\{.*route="([^"]+)".*\} (\S+)'
    for route, value in re.findall(pattern, text):
        counts[route] = counts.get(route, 0.0) + float(value)
    return counts


def _schemathesis(base: str, extra: Sequence[str]) -> subprocess.CompletedProcess[str]:
    command = [
        str(BIN / "st"),
        f"--config-file={Path(__file__).with_name('schemathesis.toml')}",
        "run",
        f"{base}/openapi.json",
        "--checks=all",
        # Valid-by-schema requests may still break rules a schema cannot state
        # (from <= to, a span of at most 7 days, a cursor this API issued),
        # and a 400 is then right; every other check runs.
        "--exclude-checks=positive_data_acceptance",
        "--max-examples=60",
        "--generation-deterministic",
        f"--header=Authorization: Bearer {TOKEN}",
        "--no-color",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=170)


@pytest.mark.timeout(180)
def test_schemathesis_finds_no_server_error_or_schema_violation(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate.upgrade(url)
    with sql_store(url) as store:
        store.write(sample_results(50))
    with running_api(url, {"MONITORING_API_TOKEN": TOKEN}) as base:
        started = time.monotonic()
        run = _schemathesis(base, [])
        counts = _requests_by_route(base)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout
    cases = int(re.search(r"(\d+) generated", run.stdout)[1])  # type: ignore[index]
    assert cases >= 500
    assert sum(counts.values()) >= 500
    assert set(document()["paths"]) <= set(counts)
    assert time.monotonic() - started < 170
