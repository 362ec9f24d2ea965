"""The storage service's settings, from ``MONITORING_*`` environment variables."""

import socket
from collections.abc import Mapping

import attrs

from apps.env import Env
from apps.settings import (
    TOPIC,
    KafkaSettings,
    load_kafka_settings,
    read_bind_host,
    read_database_migrate,
    read_database_url,
)


@attrs.frozen(kw_only=True)
class StorageConfig:
    """Everything the storage service needs, validated."""

    kafka: KafkaSettings
    group: str
    instance_id: str | None
    """Static group membership; None: dynamic (ADR 0054)."""
    dead_letter_topic: str
    database_url: str
    migrate: bool
    batch_size: int
    retention_seconds: int
    prune_every_seconds: int
    port: int
    host: str
    """Where /healthz and /metrics listen (MONITORING_BIND_HOST)."""


def default_instance_id(port: int) -> str | None:
    """The instance id of a storage service bound to ``port`` on this host.

    Static membership by default (ADR 0054): after a broker outage the
    consumer rejoins at once instead of waiting for its old session to expire
    (0.6 s instead of 11 s in bench/recovery.py), and a restarted instance
    takes its partitions back at once. Host and port name one instance: two
    services cannot bind the same port. An ephemeral port (0) names nothing
    stable, so it keeps dynamic membership.
    """
    if port == 0:
        return None
    return f"storage-{socket.gethostname()}-{port}"[:200]


def _instance_id(env: Env, port: int) -> str | None:
    given = env.text(
        "MONITORING_KAFKA_INSTANCE_ID",
        "",
        r"[\w.\-]{0,200}",
        "letters, digits, '.', '-' or '_'",
    )
    if given == "none":
        return None
    return given or default_instance_id(port)


def load_storage_config(environ: Mapping[str, str] | None = None) -> StorageConfig:
    """Read and validate; raises ConfigError naming every bad variable."""
    env = Env(environ)
    kafka = load_kafka_settings(env)
    port = env.integer("MONITORING_STORAGE_PORT", 9465, minimum=0, maximum=65535)
    config = StorageConfig(
        kafka=kafka,
        group=env.text(
            "MONITORING_KAFKA_GROUP",
            "monitoring-storage",
            r".{1,200}",
            "a consumer group name",
        ),
        instance_id=_instance_id(env, port),
        dead_letter_topic=env.text(
            "MONITORING_DEAD_LETTER_TOPIC",
            f"{kafka.topic}.dead-letter",
            TOPIC,
            "a Kafka topic name",
        ),
        database_url=read_database_url(env),
        migrate=read_database_migrate(env),
        batch_size=env.integer("MONITORING_STORAGE_BATCH", 2000, maximum=50_000),
        retention_seconds=env.duration("MONITORING_RETENTION", "30d"),
        prune_every_seconds=env.duration("MONITORING_RETENTION_INTERVAL", "1h"),
        port=port,
        host=read_bind_host(env),
    )
    env.raise_if_invalid()
    return config
