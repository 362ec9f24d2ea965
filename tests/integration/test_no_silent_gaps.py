"""Issue 16, "No silent gaps, honest status", with the real ETL process.

On the local Prometheus (node-exporter scraped every 5 s) and the real Kafka:

- an ETL killed with SIGKILL in the middle of a cycle: once restarted, it
  publishes an ``etl_run`` with status aborted for that cycle (the run id of
  the marker it wrote when the cycle started); finished cycles report their
  results delivered, none buffered;
- an ETL whose broker is away: its cycle says its results are buffered, not
  delivered, and its log has one line for the broker going away instead of
  librdkafka's line per connection attempt;
- storage whose broker is away: one line per client, and it waits.

Storage and the ETL resuming within 2 s of the broker's or the database's
return is measured by ``bench/recovery.py`` (it stops and starts servers).
"""

import json
import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from tests.support.processes import Service, eventually, logs_of, start_service
from tests.support.servers import server
from tests.support.storage import storage_env

DEADLINE = 90.0


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    with server("PROMETHEUS_URL") as url:
        yield url


def _env(prometheus: str, kafka: str, topic: str, state: Path) -> dict[str, str]:
    return {
        "MONITORING_PROMETHEUS_URL": prometheus,
        "MONITORING_KAFKA_BOOTSTRAP": kafka,
        "MONITORING_KAFKA_TOPIC": topic,
        "MONITORING_KAFKA_FLUSH_SECONDS": "5",
        "MONITORING_SERIES_SELECTORS": '{job="node"}',
        "MONITORING_WINDOWS": "1m",
        "MONITORING_CYCLE_SECONDS": "2",
        "MONITORING_FORECAST_STEP": "5s",
        "MONITORING_FORECAST_HORIZON": "15s",
        "MONITORING_FORECAST_LOOKBACK": "10m",
        "MONITORING_METADATA_LOOKBACK": "10m",
        "MONITORING_METADATA_STEP": "15s",
        "MONITORING_METADATA_RETRY_SECONDS": "0",
        "MONITORING_ETL_METRICS_PORT": "0",
        "MONITORING_ETL_STATE_PATH": str(state),
        "MONITORING_LOG_LEVEL": "INFO",
    }


def _runs(bootstrap: str, topic: str, wanted: int) -> list[dict[str, Any]]:
    """The ``etl_run`` messages of ``topic``, at least ``wanted`` of them."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"gaps-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    runs: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    try:
        while len(runs) < wanted and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            body = json.loads(message.value() or b"{}")
            if body.get("type") == "etl_run":
                runs.append(body["data"])
    finally:
        consumer.close()
    return runs


def test_an_etl_killed_mid_cycle_records_the_cycle_as_aborted_after_restart(
    tmp_path: Path,
    prometheus_url: str,
    kafka_bootstrap: str,
    services: list[Service],
) -> None:
    topic = f"gaps-{uuid.uuid4().hex[:10]}"
    state = tmp_path / "state" / "etl.sqlite"
    markers = state.parent / "etl.cycles"
    env = _env(prometheus_url, kafka_bootstrap, topic, state)
    first = start_service("etl-killed", ["etl"], env, tmp_path)
    services.append(first)

    def a_cycle_running() -> list[Path]:
        found = list(markers.glob("*.cycle.json")) if markers.exists() else []
        assert found, "no cycle started yet"
        return found

    running = eventually(
        a_cycle_running,
        timeout=DEADLINE,
        what="a cycle of the first ETL",
        services=[first],
        interval=0.005,
    )
    first.signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    killed = {p.name.removesuffix(".cycle.json") for p in running}
    left = {p.name.removesuffix(".cycle.json") for p in markers.glob("*.cycle.json")}
    assert left and left <= killed | left  # what the kill interrupted

    second = start_service("etl-restarted", ["etl", "--once"], env, tmp_path)
    services.append(second)
    code = second.wait(DEADLINE)
    assert code == 0, logs_of([second])
    runs = _runs(kafka_bootstrap, topic, len(left) + 1)
    aborted = {r["run_id"]: r for r in runs if "aborted" in r}
    assert set(aborted) == left, f"{runs}\n{logs_of([second])}"
    for run in aborted.values():
        assert run["ok"] is False and run["results_published"] == 0
        assert "ended during this" in run["aborted"]
    assert list(markers.glob("*.cycle.json")) == [], "recorded, then forgotten"
    finished = [r for r in runs if "aborted" not in r]
    assert finished, runs
    for run in finished:  # the broker is up: everything handed over arrived
        assert run["results_buffered"] == 0
        assert run["results_delivered"] == run["results_published"]
    assert "recorded as aborted" in second.stderr.read_text()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once it is closed


def test_with_the_broker_away_results_are_buffered_and_the_outage_is_one_line(
    tmp_path: Path, prometheus_url: str, services: list[Service]
) -> None:
    away = f"127.0.0.1:{_closed_port()}"
    env = {
        **_env(prometheus_url, away, "gaps-away", tmp_path / "etl.sqlite"),
        "MONITORING_SERIES_SELECTORS": 'node_load1{job="node"}',
        "MONITORING_KAFKA_FLUSH_SECONDS": "1",
    }
    etl = start_service("etl-broker-away", ["etl", "--once"], env, tmp_path)
    services.append(etl)
    code = etl.wait(DEADLINE)
    log = etl.stderr.read_text()
    assert code == 1, logs_of([etl])  # results not delivered: not a success
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    [cycle] = [r for r in lines if r.get("event") == "etl_cycle"]
    assert cycle["buffered"] >= cycle["results"] > 0, cycle
    assert cycle["delivered"] == 0
    assert "results buffered, not delivered yet" in cycle["message"]
    down = [r for r in lines if "is unreachable" in r.get("message", "")]
    assert len(down) == 1, log[-3000:]
    assert "Connection refused" not in log.replace(down[0]["message"], ""), log[-3000:]


def test_storage_with_the_broker_away_logs_one_line_not_one_per_attempt(
    tmp_path: Path, services: list[Service]
) -> None:
    """Storage used to log about 20 "Connection refused" lines a second while
    the broker was away; now one line when it goes away (and a summary a
    minute while it stays away), and it waits instead of dying."""
    away = f"127.0.0.1:{_closed_port()}"
    env = {
        **storage_env(away, "gaps-storage", f"sqlite:///{tmp_path / 'results.db'}"),
        "MONITORING_LOG_LEVEL": "INFO",
    }
    storage = start_service("storage-broker-away", ["storage"], env, tmp_path)
    services.append(storage)

    def reported() -> list[dict[str, Any]]:
        lines = storage.stderr.read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        down = [r for r in records if "is unreachable" in r.get("message", "")]
        assert down, storage.tail()
        return down

    eventually(
        reported, timeout=30, what="the broker reported away", services=[storage]
    )
    time.sleep(5)  # librdkafka retries at least 5 times a second meanwhile
    assert storage.wait(0) is None, "storage must wait for the broker, not die"
    log = storage.stderr.read_text()
    down = reported()
    # One line per client (the consumer and the dead-letter producer).
    clients = Counter(r["message"].split(" is unreachable")[0] for r in down)
    assert set(clients.values()) == {1} and len(clients) <= 2, log[-3000:]
    rest = log
    for record in down:
        rest = rest.replace(record["message"], "")
    assert "Connection refused" not in rest, log[-3000:]
    storage.signal(signal.SIGTERM)
    assert storage.wait(30) == 0, storage.tail()
