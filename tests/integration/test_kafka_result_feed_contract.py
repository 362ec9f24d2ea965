"""KafkaResultFeed passes the ResultFeed contract on the real broker."""

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, Producer

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.result_feed import KafkaResultFeed, kafka_feed
from adapters.kafka.result_publisher import ensure_topic
from monitoring_core.ports import Result
from tests.contracts.result_feed_contract import (
    PATIENCE,
    FeedHarness,
    ResultFeedContract,
)

COMPUTED_AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class KafkaHarness:
    """Messages produced to a fresh one-partition topic, read by the feed."""

    def __init__(self, bootstrap: str, topic: str, feed: KafkaResultFeed) -> None:
        self.feed = feed
        self._bootstrap, self._topic = bootstrap, topic
        self._producer = Producer({"bootstrap.servers": bootstrap})

    def _send(self, key: bytes, value: bytes) -> None:
        self._producer.produce(self._topic, key=key, value=value)
        assert self._producer.flush(PATIENCE) == 0

    def put(self, results: Sequence[Result]) -> None:
        for result in results:
            key, envelope = encode(result, COMPUTED_AT)
            self._producer.produce(
                self._topic, key=key.encode(), value=to_bytes(envelope)
            )
        assert self._producer.flush(PATIENCE) == 0

    def put_unreadable(self, payload: bytes) -> None:
        self._send(b"poison", payload)

    def dead_lettered(self, count: int) -> list[str]:
        consumer = Consumer(
            {
                "bootstrap.servers": self._bootstrap,
                "group.id": f"read-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
            }
        )
        consumer.subscribe([f"{self._topic}-dlq"])
        try:
            reasons: list[str] = []
            for _ in range(int(PATIENCE)):
                if len(reasons) >= count:
                    break
                msg = consumer.poll(1.0)
                if msg is not None and msg.error() is None:
                    reasons.append(dict(msg.headers() or [])["reason"].decode())
            return reasons
        finally:
            consumer.close()


class TestKafkaResultFeed(ResultFeedContract):
    @pytest.fixture
    def harness(self, kafka_bootstrap: str, kafka_topic: str) -> Iterator[FeedHarness]:
        ensure_topic(kafka_bootstrap, kafka_topic, 1)
        ensure_topic(kafka_bootstrap, f"{kafka_topic}-dlq", 1)
        with kafka_feed(
            kafka_bootstrap,
            kafka_topic,
            f"group-{kafka_topic}",
            None,
            f"{kafka_topic}-dlq",
        ) as feed:
            yield KafkaHarness(kafka_bootstrap, kafka_topic, feed)
