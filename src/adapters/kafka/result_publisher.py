"""ResultPublisher on Kafka: idempotent, acks=all, bounded buffer, checked delivery."""

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.link import broker_state, watched
from monitoring_core.errors import PublishError
from monitoring_core.ports import Clock, Result, ResultPublisher

log = logging.getLogger(__name__)


def producer_config(bootstrap: str, buffer_messages: int) -> dict[str, Any]:
    """librdkafka settings: nothing is dropped while the broker is away.

    ``message.timeout.ms=0`` keeps retrying a queued message for ever; the
    bound is the queue itself, ``buffer_messages`` long (overflow policy: a
    full buffer makes ``publish`` wait, then refuse; docs/reliability.md).
    """
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "message.timeout.ms": 0,
        "queue.buffering.max.messages": buffer_messages,
        "queue.buffering.max.kbytes": 1_048_576,
        "linger.ms": 20,
        "compression.type": "lz4",
        "client.id": "monitoring-etl",
    }


class KafkaResultPublisher(ResultPublisher):
    """Publishes each result as a JSON envelope keyed by series id.

    Args:
        producer: a confluent-kafka producer made with ``producer_config``.
        topic: the results topic.
        clock: stamps ``computed_at``.
        buffer_wait_seconds: how long ``publish`` waits for room in a full
            buffer before it gives up with PublishError.
    """

    def __init__(
        self,
        producer: Producer,
        topic: str,
        clock: Clock,
        buffer_wait_seconds: float = 5.0,
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._clock = clock
        self._wait = buffer_wait_seconds
        self._lock = threading.Lock()
        self.delivered = 0
        self.failed = 0

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        with self._lock:
            if err is None:
                self.delivered += 1
                return
            self.failed += 1
        log.error("kafka delivery failed for key %s: %s", msg.key(), err)

    @property
    def pending(self) -> int:
        """Messages handed to the producer and not yet acknowledged."""
        return len(self._producer)

    def publish(self, results: Sequence[Result]) -> None:
        """Queue every result; wait for room when the bounded buffer is full."""
        now = self._clock.now()
        for done, result in enumerate(results):
            key, envelope = encode(result, now)
            if not self._produce(key, to_bytes(envelope)):
                raise PublishError(
                    f"kafka buffer full for {self._wait:.0f}s: {len(results) - done} "
                    f"of {len(results)} results not accepted ({self.pending} pending)"
                )
        self._producer.poll(0)

    def _produce(self, key: str, value: bytes) -> bool:
        deadline = time.monotonic() + self._wait
        while True:
            try:
                self._producer.produce(
                    self._topic, value=value, key=key, on_delivery=self._on_delivery
                )
                return True
            except BufferError:
                if time.monotonic() >= deadline:
                    return False
                self._producer.poll(0.1)

    def flush(self, timeout_seconds: float) -> int:
        """Wait for acknowledgements; the number still undelivered."""
        remaining: int = self._producer.flush(timeout_seconds)
        return remaining


def ensure_topic(
    bootstrap: str, topic: str, partitions: int, timeout_seconds: float = 10.0
) -> None:
    """Create the topic if it is missing; an unreachable broker only warns."""
    # Quiet: a broker that is away makes one warning below, not librdkafka's
    # twenty lines a second for the whole timeout.
    admin = AdminClient(
        watched(
            {"bootstrap.servers": bootstrap},
            broker_state("kafka (topic set-up)"),
            stats=False,
        )
    )
    futures = admin.create_topics(
        [NewTopic(topic, partitions, 1)], request_timeout=timeout_seconds
    )
    try:
        futures[topic].result(timeout=timeout_seconds)
        log.info("created kafka topic %s with %d partitions", topic, partitions)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            log.warning("could not ensure kafka topic %s: %s", topic, exc)
    except Exception as exc:  # a timeout: the broker may come later
        why = str(exc) or f"no answer within {timeout_seconds:.0f}s"
        log.warning("could not ensure kafka topic %s: %s", topic, why)


POLL_SECONDS = 0.5
"""Longest wait of the producer's background poll (callbacks, broker state)."""


def _poll_until(producer: Producer, stop: threading.Event) -> None:
    """Serve delivery reports, errors and statistics between two publishes:
    acknowledgements are counted, and the broker's state changes are logged,
    also while the ETL waits for its next cycle."""
    while not stop.is_set():
        producer.poll(POLL_SECONDS)


@contextmanager
def kafka_publisher(
    bootstrap: str, topic: str, clock: Clock, buffer_messages: int, flush_seconds: float
) -> Iterator[KafkaResultPublisher]:
    """A publisher whose producer is flushed on exit, reporting what was left."""
    producer = Producer(
        watched(producer_config(bootstrap, buffer_messages), broker_state())
    )
    publisher = KafkaResultPublisher(producer, topic, clock)
    stop = threading.Event()
    poller = threading.Thread(
        target=_poll_until, args=(producer, stop), name="kafka-poll", daemon=True
    )
    poller.start()
    try:
        yield publisher
    finally:
        stop.set()
        poller.join(timeout=2 * POLL_SECONDS + 1)
        left = publisher.flush(flush_seconds)
        if left:
            log.error(
                "shutdown: %d results were NOT delivered to kafka topic %s "
                "(broker unreachable for %.0fs)",
                left,
                topic,
                flush_seconds,
            )
        else:
            log.info("shutdown: every result delivered to kafka topic %s", topic)
