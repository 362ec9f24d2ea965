"""A private Prometheus holding backfilled series, for exact-value tests."""

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.support.servers import binary


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def backfill(openmetrics: str, data_dir: Path) -> None:
    """Turn OpenMetrics text into TSDB blocks with promtool."""
    source = data_dir.parent / "backfill.om"
    source.write_text(openmetrics)
    backfill_file(source, data_dir)
    source.unlink()


def backfill_file(source: Path, data_dir: Path) -> None:
    """Turn an OpenMetrics file into TSDB blocks with promtool."""
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            binary("promtool", "/usr/bin/promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(source),
            str(data_dir),
        ],
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def private_prometheus(data_dir: Path, timeout: float = 60) -> Iterator[str]:
    """Run Prometheus on a free loopback port over ``data_dir``; yield its URL."""
    config = data_dir.parent / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
    port = free_port()
    log = (data_dir.parent / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            binary("prometheus", "/usr/bin/prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=3650d",
            "--query.max-samples=500000000",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, timeout)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"prometheus at {url} not ready in {timeout}s")
