"""librdkafka's errors and statistics become state changes of the broker."""

import json
import logging

import pytest
from confluent_kafka import KafkaError

from adapters.kafka.link import (
    RECONNECT_BACKOFF_MAX_MS,
    broker_state,
    watched,
)


def _stats(state: str, nodeid: int = 1) -> str:
    return json.dumps(
        {
            "brokers": {
                "127.0.0.1:9092/bootstrap": {"nodeid": -1, "state": "INIT"},
                f"127.0.0.1:9092/{nodeid}": {"nodeid": nodeid, "state": state},
            }
        }
    )


def test_watched_settings_reconnect_within_a_second_and_keep_librdkafka_quiet() -> None:
    config = watched({"bootstrap.servers": "x:1"}, broker_state())
    assert config["bootstrap.servers"] == "x:1"
    assert config["reconnect.backoff.max.ms"] == RECONNECT_BACKOFF_MAX_MS <= 1000
    assert config["log_level"] <= 2  # its "Connect ... failed" lines come as errors
    assert callable(config["error_cb"]) and callable(config["stats_cb"])
    quiet = watched({}, broker_state(), stats=False)
    assert quiet["statistics.interval.ms"] == 0 and "stats_cb" not in quiet


def test_errors_and_statistics_drive_one_line_per_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = broker_state()
    config = watched({}, state)
    refused = KafkaError(KafkaError._TRANSPORT, "Connect to ipv4#127.0.0.1:1 failed")
    with caplog.at_level(logging.INFO, "adapters.kafka.link"):
        for _ in range(200):
            config["error_cb"](refused)
            config["error_cb"](KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 down"))
            config["stats_cb"](_stats("CONNECT"))
        assert state.is_down
        config["stats_cb"](_stats("UP"))
        config["stats_cb"](_stats("UP"))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0] == "kafka is unreachable: Connect to ipv4#127.0.0.1:1 failed"
    assert lines[1].startswith("kafka is reachable again after")
    assert lines[1].endswith("(400 failed attempts)")
    assert not state.is_down


def test_other_errors_are_logged_as_they_come_and_do_not_mark_the_broker_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = broker_state()
    config = watched({}, state)
    with caplog.at_level(logging.INFO, "adapters.kafka.link"):
        config["error_cb"](KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "no"))
        config["stats_cb"]("not json")
    assert not state.is_down
    assert [r.getMessage() for r in caplog.records] == ["kafka client: no"]
