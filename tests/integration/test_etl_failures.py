"""The ETL under failure: Prometheus or Kafka away, and the long-running service."""

import json
import os
import signal
import subprocess
import sys
import time

import requests

from tests.support.etl import consume_all, etl_env, run_etl
from tests.support.prometheus import free_port


def test_prometheus_down_fails_the_cycle_yet_records_it(kafka_bootstrap: str) -> None:
    topic = f"down-{free_port()}"
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_etl(etl_env(dead, kafka_bootstrap, topic), "--once")
    assert result.returncode == 1
    assert "discovery: Prometheus at http://127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
    (run,) = consume_all(kafka_bootstrap, topic)
    assert run["type"] == "etl_run" and run["data"]["ok"] is False
    assert run["data"]["steps"][0]["error"].startswith("Prometheus at")


def test_kafka_down_reports_every_undelivered_result(dataset_prometheus: str) -> None:
    env = etl_env(dataset_prometheus, f"127.0.0.1:{free_port()}", "never")
    env["MONITORING_KAFKA_FLUSH_SECONDS"] = "2"
    started = time.monotonic()
    result = run_etl(env, "--once", timeout=120)
    assert result.returncode == 1
    assert time.monotonic() - started < 90
    lines = [json.loads(x) for x in result.stderr.splitlines() if x.startswith("{")]
    (lost,) = [x for x in lines if "NOT delivered" in x["message"]]
    assert lost["level"] == "error"
    count = int(lost["message"].split()[1])
    assert count > 5  # every window_stats, metadata and forecast result, plus the run
    assert f"{count} results not delivered to Kafka" in result.stderr


def test_long_running_service_survives_failures_and_exposes_metrics(
    kafka_bootstrap: str,
) -> None:
    port = free_port()
    env = etl_env(f"http://127.0.0.1:{free_port()}", kafka_bootstrap, f"svc-{port}")
    env.update(
        {"MONITORING_ETL_METRICS_PORT": str(port), "MONITORING_CYCLE_SECONDS": "1"}
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "etl"],
        env={**os.environ, **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        metrics = _wait_for_failures(f"http://127.0.0.1:{port}/metrics", at_least=3)
        assert process.poll() is None, "the service must stay up"
        assert 'monitoring_etl_cycles_total{outcome="failed"}' in metrics
        assert "monitoring_etl_step_duration_seconds_bucket" in metrics
        assert "monitoring_etl_kafka_pending_messages" in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "received SIGTERM" in err
    assert "every result delivered" in err


def _wait_for_failures(url: str, at_least: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = requests.get(url, timeout=2).text
        except requests.RequestException:
            time.sleep(0.2)
            continue
        prefix = 'monitoring_etl_step_failures_total{step="discovery"}'
        for line in text.splitlines():
            if line.startswith(prefix) and float(line.split()[-1]) >= at_least:
                return text
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} failed cycles counted at {url}")
