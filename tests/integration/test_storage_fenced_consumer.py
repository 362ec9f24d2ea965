"""Storage's feed survives being fenced: a fatal librdkafka error is not the end."""

import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.result_feed import consumer_config, kafka_feed
from adapters.kafka.result_publisher import ensure_topic
from tests.support import factories


def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for _ in range(count):
        key, envelope = encode(factories.score(), factories.NOW)
        producer.produce(topic, key=key.encode(), value=to_bytes(envelope))
    assert producer.flush(10) == 0


def _drain(feed: object, seconds: float, until: int) -> int:
    taken, end = 0, time.monotonic() + seconds
    while taken < until and time.monotonic() < end:
        batch = feed.next_batch(100, 0.2)  # type: ignore[attr-defined]
        taken += len(batch)
        feed.commit()  # type: ignore[attr-defined]
    return taken


def test_a_fenced_static_member_joins_again_and_commits(
    kafka_bootstrap: str, kafka_topic: str
) -> None:
    # The fence that a session timing out as the broker comes back can cause,
    # made on purpose: a second consumer joins under storage's instance id.
    group, instance = f"fenced-{uuid.uuid4().hex[:8]}", "storage-fenced"
    ensure_topic(kafka_bootstrap, kafka_topic, 1)
    ensure_topic(kafka_bootstrap, f"{kafka_topic}.dl", 1)
    with kafka_feed(
        kafka_bootstrap, kafka_topic, group, instance, f"{kafka_topic}.dl"
    ) as feed:
        _produce(kafka_bootstrap, kafka_topic, 5)
        assert _drain(feed, 30, 5) == 5
        intruder = Consumer(
            {**consumer_config(kafka_bootstrap, group, instance), "client.id": "x"}
        )
        intruder.subscribe([kafka_topic])
        end = time.monotonic() + 4
        while time.monotonic() < end:
            intruder.poll(0.2)
            _drain(feed, 0.2, 1)
        intruder.close()
        _produce(kafka_bootstrap, kafka_topic, 7)
        _drain(feed, 30, 7)
        reader = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
        try:
            [committed] = reader.committed([TopicPartition(kafka_topic, 0)], 10)
        finally:
            reader.close()
    assert committed.offset == 12, "everything written after the fence committed"
