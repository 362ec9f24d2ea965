"""The Kafka feed decodes the next batch ahead, but commits only what it handed out."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from confluent_kafka import TopicPartition

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.result_feed import KafkaResultFeed, consumer_config
from tests.support import factories


class FakeMessage:
    def __init__(self, partition: int, offset: int, value: bytes) -> None:
        self._partition, self._offset, self._value = partition, offset, value

    def topic(self) -> str:
        return "results"

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def value(self) -> bytes:
        return self._value

    def key(self) -> bytes:
        return b"k"

    def error(self) -> None:
        return None


class FakeConsumer:
    """Hands out queued messages; runs a rebalance callback when told to."""

    def __init__(self, messages: list[FakeMessage]) -> None:
        self.queue = list(messages)
        self.commits: list[dict[int, int]] = []
        self.callbacks: dict[str, Callable[..., None]] = {}
        self.revoke_on_consume: list[int] = []
        self.paused = False

    def subscribe(self, topics: list[str], **callbacks: Callable[..., None]) -> None:
        self.callbacks = callbacks

    def consume(self, count: int, timeout: float) -> list[FakeMessage]:
        if self.revoke_on_consume:
            gone = [TopicPartition("results", p) for p in self.revoke_on_consume]
            self.revoke_on_consume = []
            self.callbacks["on_revoke"](self, gone)
        if self.paused:
            return []
        taken, self.queue = self.queue[:count], self.queue[count:]
        return taken

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert not asynchronous
        self.commits.append({tp.partition: tp.offset for tp in offsets})

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition("results", p) for p in (0, 1)]

    def pause(self, partitions: list[TopicPartition]) -> None:
        self.paused = True

    def resume(self, partitions: list[TopicPartition]) -> None:
        self.paused = False

    def poll(self, timeout: float) -> FakeMessage | None:
        if not self.queue:
            return None
        message, self.queue = self.queue[0], self.queue[1:]
        return message


class FakeProducer:
    def __init__(self) -> None:
        self.produced: list[dict[str, Any]] = []

    def produce(self, topic: str, **message: Any) -> None:
        self.produced.append(message)

    def flush(self, timeout: float) -> int:
        return 0

    def poll(self, timeout: float) -> int:
        return 0


GOOD = to_bytes(encode(factories.score(), factories.NOW)[1])


def _messages(count: int, poison_at: int | None = None) -> list[FakeMessage]:
    """``count`` messages alternating between partitions 0 and 1."""
    return [
        FakeMessage(i % 2, i // 2, b"{not json" if i == poison_at else GOOD)
        for i in range(count)
    ]


@pytest.fixture
def decoder() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown()


def _feed(
    consumer: FakeConsumer, decoder: ThreadPoolExecutor | None
) -> KafkaResultFeed:
    feed = KafkaResultFeed(consumer, FakeProducer(), "results.dl", decoder)  # type: ignore[arg-type]
    feed.subscribe("results")
    return feed


def test_the_batch_decoded_ahead_is_neither_handed_out_nor_committed(
    decoder: ThreadPoolExecutor,
) -> None:
    consumer = FakeConsumer(_messages(10))
    feed = _feed(consumer, decoder)
    first = feed.next_batch(4, 0.1)
    assert [r.origin for r in first] == [
        "results[0]@0",
        "results[1]@0",
        "results[0]@1",
        "results[1]@1",
    ]
    assert len(consumer.queue) == 2, "the next four were taken to decode ahead"
    feed.commit()
    assert consumer.commits == [{0: 2, 1: 2}], "only what was handed out"
    second = feed.next_batch(4, 0.1)
    assert second[0].origin == "results[0]@2"
    assert all(r.result == factories.score() for r in first + second)
    feed.commit()
    assert consumer.commits[-1] == {0: 4, 1: 4}


def test_ahead_or_not_the_batches_are_the_same(decoder: ThreadPoolExecutor) -> None:
    batches = []
    for pool in (None, decoder):
        feed = _feed(FakeConsumer(_messages(9, poison_at=5)), pool)
        batches.append([feed.next_batch(4, 0.1) for _ in range(4)])
    assert batches[0] == batches[1]
    rejected = [r for batch in batches[1] for r in batch if r.result is None]
    assert [r.origin for r in rejected] == ["results[1]@2"]
    assert "not JSON" in (rejected[0].rejection or "")


def test_a_reject_decoded_ahead_is_dead_lettered_with_its_reason(
    decoder: ThreadPoolExecutor,
) -> None:
    producer = FakeProducer()
    consumer = FakeConsumer(_messages(4, poison_at=3))
    feed = KafkaResultFeed(consumer, producer, "results.dl", decoder)  # type: ignore[arg-type]
    feed.subscribe("results")
    feed.next_batch(2, 0.1)
    second = feed.next_batch(2, 0.1)
    feed.dead_letter([r for r in second if r.result is None])
    (letter,) = producer.produced
    headers = dict(letter["headers"])
    assert headers["origin"] == b"results[1]@1"
    assert b"not JSON" in headers["reason"]


def test_messages_of_revoked_partitions_are_dropped_not_handed_out(
    decoder: ThreadPoolExecutor,
) -> None:
    consumer = FakeConsumer(_messages(12))
    feed = _feed(consumer, decoder)
    feed.next_batch(4, 0.1)  # and four more taken ahead
    consumer.revoke_on_consume = [1]  # during the next take
    second = feed.next_batch(4, 0.1)
    assert [r.origin for r in second] == ["results[0]@2", "results[0]@3"]
    feed.commit()
    assert consumer.commits == [{0: 4}], "nothing of the revoked partition"


def test_a_held_feed_hands_out_the_batch_ahead_before_what_it_polled(
    decoder: ThreadPoolExecutor,
) -> None:
    consumer = FakeConsumer(_messages(8))
    feed = _feed(consumer, decoder)
    feed.next_batch(2, 0.1)  # two more decoded ahead
    feed.hold()  # polls one message to keep the membership
    feed.release()
    offsets = [r.origin for _ in range(3) for r in feed.next_batch(2, 0.1)]
    assert offsets == [
        "results[0]@1",
        "results[1]@1",
        "results[0]@2",
        "results[1]@2",
        "results[0]@3",
        "results[1]@3",
    ]


def test_the_consumer_refreshes_metadata_often_to_rejoin_at_once() -> None:
    # A broker just back refuses the first JoinGroup while it loads the group;
    # librdkafka's join back-off then lasts up to 2 s unless a metadata answer
    # ends it (bench/recovery.py --variants previous,default, ADR 0054).
    config = consumer_config("127.0.0.1:9092", "storage", "storage-a")
    assert int(config["topic.metadata.refresh.interval.ms"]) <= 500
    assert config["group.instance.id"] == "storage-a"


class FatalError:
    """What librdkafka reports once a static member was fenced."""

    def fatal(self) -> bool:
        return False  # so it comes from librdkafka: only the code says it

    def code(self) -> int:
        return -150  # _FATAL

    def str(self) -> str:
        return "Broker: Static consumer fenced by other consumer"


class FencedMessage(FakeMessage):
    def error(self) -> FatalError:  # type: ignore[override]
        return FatalError()


class ClosableConsumer(FakeConsumer):
    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_fenced_consumer_is_replaced_and_the_feed_goes_on(
    decoder: ThreadPoolExecutor,
) -> None:
    # After a broker restart the session may time out as the broker comes back;
    # the rejoin fences a heartbeat in flight and librdkafka ends the consumer
    # with a fatal error. Storage used to stop there for good.
    fenced = ClosableConsumer([*_messages(2), FencedMessage(0, 9, b"")])
    successor = ClosableConsumer(_messages(4))
    feed = KafkaResultFeed(
        fenced,  # type: ignore[arg-type]
        FakeProducer(),  # type: ignore[arg-type]
        "results.dl",
        decoder,
        rebuild=lambda: successor,  # type: ignore[arg-type,return-value]
    )
    feed.subscribe("results")
    assert feed.next_batch(10, 0.1) == [], "the fenced consumer's batch is dropped"
    feed.commit()
    assert fenced.commits == [] and successor.commits == []
    assert fenced.closed and "on_lost" in successor.callbacks
    again = feed.next_batch(10, 0.1)
    assert [r.origin for r in again] == [f"results[{i % 2}]@{i // 2}" for i in range(4)]
    feed.commit()
    assert successor.commits == [{0: 2, 1: 2}]
