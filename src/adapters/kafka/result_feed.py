"""ResultFeed on a Kafka consumer group, with a dead-letter topic for rejects."""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from adapters.kafka.decoding import MessageRejected, decode
from adapters.kafka.result_publisher import producer_config
from monitoring_core.errors import PublishError
from monitoring_core.ports import Received, ResultFeed

log = logging.getLogger(__name__)
DEAD_LETTER_VALUE_LIMIT = 65_536
"""A dead letter keeps at most this much of the rejected payload."""


def consumer_config(
    bootstrap: str, group: str, instance_id: str | None
) -> dict[str, Any]:
    """Offsets are stored and committed by hand, only after the write.

    A ``group.instance.id`` (static membership) lets a restarted instance take
    its partitions back at once instead of waiting for a rebalance.
    """
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 10_000,
        "client.id": "monitoring-storage",
    }
    if instance_id:
        config["group.instance.id"] = instance_id
    return config


def _origin(msg: Message) -> str:
    return f"{msg.topic()}[{msg.partition()}]@{msg.offset()}"


class KafkaResultFeed(ResultFeed):
    """Decodes each message; remembers offsets to commit and rejects to set aside."""

    def __init__(
        self, consumer: Consumer, dead_letters: Producer, dead_letter_topic: str
    ) -> None:
        self._consumer = consumer
        self._dead_letters = dead_letters
        self._dead_letter_topic = dead_letter_topic
        self._offsets: dict[tuple[str, int], int] = {}
        self._raw: dict[str, Message] = {}
        self._queued: set[str] = set()
        self._stash: list[Message] = []
        self.rebalances = 0

    def subscribe(self, topic: str) -> None:
        """Join the group on ``topic``."""
        self._consumer.subscribe(
            [topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )

    def _on_assign(self, _: Consumer, partitions: list[TopicPartition]) -> None:
        self.rebalances += 1
        log.info("assigned partitions %s", [p.partition for p in partitions])

    def _on_revoke(self, _: Consumer, partitions: list[TopicPartition]) -> None:
        # Work is committed right after each write, so nothing finished is
        # pending here; offsets of a batch still waiting for the store cannot
        # be committed by us any more, and its new owner re-delivers it.
        for p in partitions:
            self._offsets.pop((p.topic, p.partition), None)
        log.info("revoked partitions %s", [p.partition for p in partitions])

    def next_batch(self, max_items: int, timeout_seconds: float) -> list[Received]:
        """Decode up to ``max_items`` messages."""
        messages, self._stash = self._stash, []
        if len(messages) < max_items:
            messages += self._consumer.consume(
                max_items - len(messages), timeout_seconds
            )
        return [self._receive(m) for m in messages if self._usable(m)]

    def _usable(self, msg: Message) -> bool:
        error = msg.error()
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        if error is None and topic is not None and partition is not None:
            self._offsets[(topic, partition)] = (offset or 0) + 1
            return True
        if error is None:
            return False
        if error.fatal():
            raise KafkaException(error)
        if error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", error)
        return False

    def _receive(self, msg: Message) -> Received:
        try:
            return Received(result=decode(msg.value() or b""), origin=_origin(msg))
        except MessageRejected as exc:
            self._raw[_origin(msg)] = msg
            return Received(result=None, rejection=str(exc), origin=_origin(msg))

    def dead_letter(self, rejected: Sequence[Received]) -> None:
        """Produce each reject with its reason; wait until all are acknowledged."""
        for item in rejected:
            if item.origin not in self._queued:
                self._produce_dead_letter(item)
        left = self._dead_letters.flush(10)
        if left:
            raise PublishError(f"{left} dead letters not acknowledged by Kafka")
        for item in rejected:
            self._queued.discard(item.origin)
            self._raw.pop(item.origin, None)

    def _produce_dead_letter(self, item: Received) -> None:
        msg = self._raw[item.origin]
        value = msg.value() or b""
        headers: list[tuple[str, str | bytes | None]] = [
            ("reason", (item.rejection or "").encode()),
            ("origin", item.origin.encode()),
            ("original-size", str(len(value)).encode()),
        ]
        self._dead_letters.produce(
            self._dead_letter_topic,
            key=msg.key(),
            value=value[:DEAD_LETTER_VALUE_LIMIT],
            headers=headers,
        )
        self._queued.add(item.origin)

    def commit(self) -> None:
        """Commit the offsets after everything handed out so far."""
        if not self._offsets:
            return
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._offsets.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # Offsets are cumulative: the next commit covers these; at worst the
            # batch is delivered again and rewritten idempotently.
            log.warning("offset commit failed, will be covered later: %s", exc)

    def hold(self) -> None:
        """Pause every assigned partition and keep the group membership alive."""
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.pause(assignment)
        msg = self._consumer.poll(0)
        if msg is not None:
            self._stash.append(msg)

    def release(self) -> None:
        """Resume fetching."""
        assignment = self._consumer.assignment()
        if assignment:
            self._consumer.resume(assignment)

    def lag(self) -> int:
        """Messages on the assigned partitions not yet consumed."""
        total = 0
        for tp in self._consumer.position(self._consumer.assignment()):
            _, high = self._consumer.get_watermark_offsets(tp, timeout=2)
            total += max(high - tp.offset, 0) if tp.offset >= 0 else high
        return total


@contextmanager
def kafka_feed(
    bootstrap: str,
    topic: str,
    group: str,
    instance_id: str | None,
    dead_letter_topic: str,
) -> Iterator[KafkaResultFeed]:
    """A subscribed feed whose consumer leaves the group cleanly on exit."""
    consumer = Consumer(consumer_config(bootstrap, group, instance_id))
    producer = Producer(
        {**producer_config(bootstrap, 100_000), "client.id": "monitoring-storage-dlq"}
    )
    feed = KafkaResultFeed(consumer, producer, dead_letter_topic)
    feed.subscribe(topic)
    try:
        yield feed
    finally:
        producer.flush(10)
        consumer.close()
