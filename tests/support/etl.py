"""Running the real ETL in a child process and reading what it published."""

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from typing import Any

from confluent_kafka import Consumer

from tests.support.prometheus import free_port
from tests.support.storage import running_storage, storage_env, wait_until_stored


def run_etl(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "apps.cli", "etl", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def etl_env(prometheus: str, kafka: str, topic: str) -> dict[str, str]:
    """A one-shot ETL's settings, with a state file of its own: forecasts
    remembered by an earlier test's run must not be scored in this one."""
    # Under the session's XDG_STATE_HOME (tests/conftest.py), removed with it.
    state = tempfile.mkdtemp(prefix="etl-", dir=os.environ.get("XDG_STATE_HOME"))
    return {
        "MONITORING_ETL_STATE_PATH": os.path.join(state, "etl.sqlite"),
        "MONITORING_PROMETHEUS_URL": prometheus,
        "MONITORING_KAFKA_BOOTSTRAP": kafka,
        "MONITORING_KAFKA_TOPIC": topic,
        "MONITORING_SERIES_SELECTORS": '{__name__=~"test_.*"}',
        "MONITORING_METADATA_LOOKBACK": "12h",
        "MONITORING_METADATA_STEP": "1m",
        "MONITORING_ETL_METRICS_PORT": "0",
        "MONITORING_KAFKA_FLUSH_SECONDS": "5",
    }


def consume_all(
    bootstrap: str, topic: str, timeout: float = 30
) -> list[dict[str, Any]]:
    """Every message on the topic, read until the etl_run record and a quiet second."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": topic,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[dict[str, Any]] = []
    deadline = datetime.now().timestamp() + timeout
    try:
        while datetime.now().timestamp() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                if any(m["type"] == "etl_run" for m in messages):
                    break
                continue
            assert msg.error() is None, msg.error()
            body = json.loads(msg.value())
            series = body["series"]
            expected_key = series["id"] if series else body["data"]["run_id"]
            assert msg.key().decode() == expected_key
            messages.append(body)
    finally:
        consumer.close()
    return messages


def store_one_etl_run(
    prometheus: str, kafka: str, database_url: str, prefix: str
) -> list[dict[str, Any]]:
    """Publish one `etl --once` cycle, store it with `monitoring storage`, and
    return the messages it published."""
    topic = f"{prefix}-{free_port()}"
    assert run_etl(etl_env(prometheus, kafka, topic), "--once").returncode == 0
    messages = consume_all(kafka, topic)
    env = storage_env(kafka, topic, database_url)
    with running_storage(env):
        wait_until_stored(kafka, topic, env["MONITORING_KAFKA_GROUP"])
    return messages
