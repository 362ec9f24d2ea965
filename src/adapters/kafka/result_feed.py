"""ResultFeed on a Kafka consumer group, with a dead-letter topic for rejects."""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
from adapters.kafka.link import broker_state, watched
from adapters.kafka.result_publisher import producer_config
from monitoring_core.dependency_state import DependencyState
from monitoring_core.errors import PublishError
from monitoring_core.ports import Received, Result, ResultFeed

log = logging.getLogger(__name__)
DEAD_LETTER_VALUE_LIMIT = 65_536
"""A dead letter keeps at most this much of the rejected payload."""


def consumer_config(
    bootstrap: str, group: str, instance_id: str | None
) -> dict[str, Any]:
    """Offsets are stored and committed by hand, only after the write.

    A ``group.instance.id`` (static membership) lets a restarted instance take
    its partitions back at once instead of waiting for a rebalance. Heartbeats
    every second: after a broker outage the consumer finds its coordinator and
    resumes within about a second of the broker's return (ADR 0054).

    Topic metadata is refreshed every half second: a broker that has just
    come back answers the first JoinGroup with NOT_COORDINATOR or
    COORDINATOR_LOAD_IN_PROGRESS while it loads the group, and librdkafka
    retries the join only after its (fixed) join back-off, which in practice
    made storage resume 2.2 to 2.5 s after the broker instead of 1 s; a
    metadata answer ends that back-off (bench/recovery.py, ADR 0054).
    """
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": HEARTBEAT_MS,
        "topic.metadata.refresh.interval.ms": METADATA_REFRESH_MS,
        "client.id": "monitoring-storage",
    }
    if instance_id:
        config["group.instance.id"] = instance_id
    return config


HEARTBEAT_MS = 1000
"""The consumer's heartbeat period (librdkafka's default: 3 s)."""
METADATA_REFRESH_MS = 500
"""The consumer's topic metadata refresh (librdkafka's default: 5 minutes)."""
Outcome = Result | MessageRejected
_SLICE = 100
"""Messages decoded between two chances for the writer to take the GIL back."""


def decode_all(values: Sequence[bytes]) -> list[Outcome]:
    """Each value's result, or why it was rejected."""
    outcomes: list[Outcome] = []
    for start in range(0, len(values), _SLICE):
        for value in values[start : start + _SLICE]:
            try:
                outcomes.append(decode(value))
            except MessageRejected as exc:
                outcomes.append(exc)
        # Decoding ahead runs beside a write; a write whose reply from the
        # database has arrived should not wait a whole switch interval (5 ms)
        # for the GIL.
        time.sleep(0)
    return outcomes


class _Ahead:
    """Messages taken from the consumer but not handed out yet, perhaps being
    decoded in another thread; ``revoked`` partitions' messages are dropped."""

    def __init__(
        self, messages: list[Message], decoded: "Future[list[Outcome]] | None"
    ) -> None:
        self.messages = messages
        self.decoded = decoded
        self.revoked: set[tuple[str | None, int | None]] = set()

    def outcomes(self) -> list[Outcome]:
        """Each message decoded (here, unless it was being decoded ahead)."""
        if self.decoded is None:
            return decode_all([m.value() or b"" for m in self.messages])
        return self.decoded.result()


class KafkaResultFeed(ResultFeed):
    """Decodes each message; remembers offsets to commit and rejects to set aside.

    With a ``decoder`` thread, the next batch is taken from the consumer and
    decoded there while the caller writes the one just handed out (a write
    mostly waits for the database, which releases the GIL). A message counts as
    handed out, and its offset as committable, only once ``next_batch`` returns
    it, so ``commit`` after a write never covers the batch decoded ahead.
    """

    def __init__(
        self,
        consumer: Consumer,
        dead_letters: Producer,
        dead_letter_topic: str,
        decoder: ThreadPoolExecutor | None = None,
        broker: DependencyState | None = None,
        rebuild: Callable[[], Consumer] | None = None,
    ) -> None:
        self._consumer = consumer
        self._rebuild = rebuild
        self._ended = False
        self._topic = ""
        self._broker = broker
        self._dead_letters = dead_letters
        self._dead_letter_topic = dead_letter_topic
        self._decoder = decoder
        self._offsets: dict[tuple[str, int], int] = {}
        self._raw: dict[str, Message] = {}
        self._queued: set[str] = set()
        self._stash: list[Message] = []
        self._ahead: _Ahead | None = None
        self._current: _Ahead | None = None
        self.rebalances = 0

    def subscribe(self, topic: str) -> None:
        """Join the group on ``topic``."""
        self._topic = topic
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
        # Messages taken but not handed out are dropped as well: the new owner
        # of their partitions delivers them again.
        gone = {(p.topic, p.partition) for p in partitions}
        for p in partitions:
            self._offsets.pop((p.topic, p.partition), None)
        self._stash = [m for m in self._stash if (m.topic(), m.partition()) not in gone]
        for taken in (self._current, self._ahead):
            if taken is not None:
                taken.revoked |= gone
        log.info("revoked partitions %s", [p.partition for p in partitions])

    def next_batch(self, max_items: int, timeout_seconds: float) -> list[Received]:
        """Up to ``max_items`` decoded messages; then start decoding the next ones."""
        current = self._ahead
        if current is None:
            current = _Ahead(self._take(max_items, timeout_seconds), None)
        self._current, self._ahead = current, None
        following: list[Message] = []
        if self._decoder is not None and current.messages:
            # Taken before anything is handed out: a rebalance during the take
            # may still drop messages of the current batch.
            following = self._take(max_items, 0)
        outcomes = current.outcomes()
        batch = [
            self._hand_out(m, outcome)
            for m, outcome in zip(current.messages, outcomes, strict=True)
            if (m.topic(), m.partition()) not in current.revoked
        ]
        self._current = None
        if following and self._decoder is not None:
            values = [m.value() or b"" for m in following]
            self._ahead = _Ahead(following, self._decoder.submit(decode_all, values))
        return batch

    def _take(self, max_items: int, timeout_seconds: float) -> list[Message]:
        """Messages from the stash, then from the consumer; errors handled."""
        messages, self._stash = self._stash, []
        self._dead_letters.poll(0)  # serves its error and log callbacks
        if len(messages) < max_items:
            messages += self._consumer.consume(
                max_items - len(messages), timeout_seconds
            )
            if self._rebuild is not None and (
                self._ended or any(_fatal(m) for m in messages)
            ):
                self._replace_consumer()
                return []
        return [m for m in messages if self._usable(m)]

    def _replace_consumer(self) -> None:
        """A fatal error ends a librdkafka consumer for good. A static member
        is fenced so when its session timed out as the broker came back: the
        rejoin under a new member id fences a heartbeat still in flight with
        the old one (FENCED_INSTANCE_ID). A new consumer with the same
        instance id is taken back by the broker at once; everything the old
        one took and did not commit is delivered again (writes are idempotent).
        Without this, the dead consumer was kept: it never rejoined again.
        """
        log.error("kafka consumer: ended by a fatal error; joining again")
        assert self._rebuild is not None
        self._ended = False
        self._offsets.clear()
        self._stash = []
        for taken in (self._current, self._ahead):
            if taken is not None:
                taken.revoked |= {(m.topic(), m.partition()) for m in taken.messages}
        with contextlib.suppress(KafkaException, RuntimeError):
            self._consumer.close()
        self._consumer = self._rebuild()
        self.subscribe(self._topic)

    def _hand_out(self, msg: Message, outcome: Outcome) -> Received:
        topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
        assert topic is not None and partition is not None  # see _usable
        self._offsets[(topic, partition)] = (offset or 0) + 1
        origin = f"{topic}[{partition}]@{offset}"
        if isinstance(outcome, MessageRejected):
            self._raw[origin] = msg
            return Received(result=None, rejection=str(outcome), origin=origin)
        return Received(result=outcome, origin=origin)

    def _usable(self, msg: Message) -> bool:
        error = msg.error()
        if error is None:
            return msg.topic() is not None and msg.partition() is not None
        if error.fatal():
            raise KafkaException(error)
        if error.code() == KafkaError._PARTITION_EOF:
            return False
        if self._broker is not None and error.code() in (
            KafkaError._TRANSPORT,
            KafkaError._ALL_BROKERS_DOWN,
        ):
            self._broker.failed(error.str())  # one line per outage, not per error
        else:
            log.warning("consumer error: %s", error)
        return False

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
            code = exc.args[0].code() if exc.args else None
            self._ended = code in (KafkaError._FATAL, KafkaError.FENCED_INSTANCE_ID)

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

    def close(self) -> None:
        """Leave the group (the current consumer, replaced or not)."""
        self._consumer.close()

    def lag(self) -> int:
        """Messages on the assigned partitions not yet consumed."""
        total = 0
        for tp in self._consumer.position(self._consumer.assignment()):
            _, high = self._consumer.get_watermark_offsets(tp, timeout=2)
            total += max(high - tp.offset, 0) if tp.offset >= 0 else high
        return total


def _fatal(msg: Message) -> bool:
    """The consumer's end: its fatal error comes once, as a message whose
    error has the code _FATAL, and ``fatal()`` is False on it (measured on
    confluent-kafka 2.16: a fenced static member's only sign)."""
    error = msg.error()
    return error is not None and (
        bool(error.fatal()) or error.code() == KafkaError._FATAL
    )


@contextmanager
def kafka_feed(
    bootstrap: str,
    topic: str,
    group: str,
    instance_id: str | None,
    dead_letter_topic: str,
    decode_ahead: bool = True,
) -> Iterator[KafkaResultFeed]:
    """A subscribed feed whose consumer leaves the group cleanly on exit.

    ``decode_ahead`` decodes the next batch in a thread of its own while the
    current one is written.
    """
    broker = broker_state()

    def new_consumer() -> Consumer:
        return Consumer(watched(consumer_config(bootstrap, group, instance_id), broker))

    consumer = new_consumer()
    producer = Producer(
        watched(
            {
                **producer_config(bootstrap, 100_000),
                "client.id": "monitoring-storage-dlq",
            },
            broker_state("kafka (dead-letter producer)"),
            stats=False,
        )
    )
    decoder = ThreadPoolExecutor(1, "decode-ahead") if decode_ahead else None
    feed = KafkaResultFeed(
        consumer, producer, dead_letter_topic, decoder, broker, new_consumer
    )
    feed.subscribe(topic)
    try:
        yield feed
    finally:
        if decoder is not None:
            decoder.shutdown(wait=True, cancel_futures=True)
        producer.flush(10)
        feed.close()
