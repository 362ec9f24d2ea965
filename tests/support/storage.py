"""Running the real storage service in a child process, and checking what it did."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from tests.support.prometheus import free_port


def storage_env(
    bootstrap: str, topic: str, database_url: str, **extra: str
) -> dict[str, str]:
    """Settings of a storage instance of its own group on ``topic``."""
    return {
        "MONITORING_KAFKA_BOOTSTRAP": bootstrap,
        "MONITORING_KAFKA_TOPIC": topic,
        "MONITORING_KAFKA_GROUP": f"storage-{topic}",
        "MONITORING_DATABASE_URL": database_url,
        "MONITORING_STORAGE_PORT": str(free_port()),
        **extra,
    }


def start_storage(env: dict[str, str]) -> "subprocess.Popen[str]":
    """Start ``monitoring storage``; its log goes to a pipe the caller drains."""
    return subprocess.Popen(
        [sys.executable, "-m", "apps.cli", "storage"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def running_storage(env: dict[str, str]) -> Iterator["subprocess.Popen[str]"]:
    """A storage process stopped with SIGTERM at the end, which must exit 0."""
    process = start_storage(env)
    try:
        yield process
    finally:
        process.terminate()
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-3000:]


def committed_lag(bootstrap: str, topic: str, group: str) -> int:
    """Messages on the topic beyond the group's committed offsets."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    meta = admin.list_topics(topic, timeout=10).topics[topic]
    parts = [TopicPartition(topic, p) for p in meta.partitions]
    from confluent_kafka import ConsumerGroupTopicPartitions

    future = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, parts)]
    )[group]
    committed = {tp.partition: tp.offset for tp in future.result().topic_partitions}
    from confluent_kafka import Consumer

    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{group}"})
    try:
        ends = {
            p.partition: probe.get_watermark_offsets(p, timeout=10)[1] for p in parts
        }
    finally:
        probe.close()
    return sum(max(ends[p] - max(committed.get(p, 0), 0), 0) for p in ends)


def wait_until_stored(
    bootstrap: str, topic: str, group: str, timeout: float = 300
) -> None:
    """Wait until the group has committed every message on the topic."""
    deadline = time.monotonic() + timeout
    lag = -1
    while time.monotonic() < deadline:
        lag = committed_lag(bootstrap, topic, group)
        if lag == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{lag} messages still not stored after {timeout}s")


def row_counts(url: str) -> dict[str, int]:
    """Rows in every table of the schema (alembic's own table aside)."""
    from adapters.sql.tables import metadata

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(
                    sa.select(sa.func.count()).select_from(t)
                ).scalar_one()
                for t in metadata.sorted_tables
            }
    finally:
        engine.dispose()
