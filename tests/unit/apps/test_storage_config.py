"""Storage service configuration."""

import socket

import pytest

from apps.env import ConfigError
from apps.storage.config import load_storage_config


def test_defaults() -> None:
    config = load_storage_config({})
    assert config.kafka.topic == "prometheusdata"
    assert config.dead_letter_topic == "prometheusdata.dead-letter"
    assert config.group == "monitoring-storage"
    assert config.instance_id == f"storage-{socket.gethostname()}-9465"
    assert config.database_url == "sqlite:///monitoring.db" and config.migrate
    assert config.retention_seconds == 30 * 86400
    assert config.batch_size == 2000 and config.port == 9465


def test_the_dead_letter_topic_follows_the_results_topic() -> None:
    config = load_storage_config(
        {
            "MONITORING_KAFKA_TOPIC": "results",
            "MONITORING_KAFKA_INSTANCE_ID": "storage-1",
            "MONITORING_DATABASE_MIGRATE": "no",
        }
    )
    assert config.dead_letter_topic == "results.dead-letter"
    assert config.instance_id == "storage-1" and not config.migrate


def test_membership_is_static_unless_the_port_is_ephemeral_or_it_is_turned_off() -> (
    None
):
    bound = load_storage_config({"MONITORING_STORAGE_PORT": "19465"})
    assert bound.instance_id == f"storage-{socket.gethostname()}-19465"
    assert load_storage_config({"MONITORING_STORAGE_PORT": "0"}).instance_id is None
    off = load_storage_config({"MONITORING_KAFKA_INSTANCE_ID": "none"})
    assert off.instance_id is None


def test_bad_values_are_all_reported() -> None:
    with pytest.raises(ConfigError) as err:
        load_storage_config(
            {
                "MONITORING_DATABASE_URL": "postgres://x/y",
                "MONITORING_DATABASE_MIGRATE": "maybe",
                "MONITORING_RETENTION": "forever",
                "MONITORING_STORAGE_BATCH": "0",
            }
        )
    text = str(err.value)
    for name in ("DATABASE_URL", "DATABASE_MIGRATE", "RETENTION", "STORAGE_BATCH"):
        assert f"MONITORING_{name}=" in text
