"""ETL workers share the shards through a Kafka consumer group (ADR 0055).

The coordination topic has one partition per shard and no messages: the
partitions the group assigns to a worker are the shards it analyses. The group
uses the Kafka 4 consumer protocol (KIP-848, ``group.protocol=consumer``) and
static membership (``group.instance.id``): a worker restarted within the
broker's session timeout gets its shards back without a reshuffle. The
broker's range assignor (``group.remote.assignor=range``) gives each worker a
range of shards that depends only on the sorted instance ids while the number
of workers stays the same: a worker killed, replaced by the others and
restarted with its id gets the same shards back (the default, ``uniform``,
gives it a balanced but different share).

Claims. Each shard's committed offset is the last cycle window claimed for it,
and the commit's metadata says by whom and when it was claimed and finished.
A worker commits its claims *before* it analyses (so a worker killed mid-cycle
leaves its shards claimed for that window: a gap, never a second analysis),
publishes a shard's results only while it still owns the shard, and, when the
group takes a claimed shard away before its results were published, commits
the shard's previous marker back so that its new owner analyses it in the
same window. Revocation waits for a publication under way to finish.
"""

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from adapters.kafka.link import broker_state, watched
from monitoring_core.errors import MonitoringError
from monitoring_core.sharding import Sharding, compact, still_held

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
"""The group's callbacks (assignments, revocations) run within this delay."""
COMMIT_TIMEOUT_SECONDS = 10.0
REJOIN_SECONDS = 2.0
"""Wait between two joins after a fatal error (an instance id not released)."""
NO_WINDOW = -1


class ShardTopicMismatch(MonitoringError):
    """The coordination topic exists with another number of partitions."""


@contextmanager
def _admin(bootstrap: str) -> Iterator[AdminClient]:
    yield AdminClient(
        watched({"bootstrap.servers": bootstrap}, broker_state("kafka"), stats=False)
    )


def ensure_shard_topic(
    bootstrap: str, topic: str, shards: int, timeout_seconds: float = 10.0
) -> None:
    """Create the coordination topic (one partition per shard) if missing.

    Raises:
        ShardTopicMismatch: it exists with another partition count (another
            MONITORING_ETL_SHARDS): workers would not agree on the shards.
        MonitoringError: the broker did not answer in time.
    """
    with _admin(bootstrap) as admin:
        try:
            # All topics: asking for one by name lets a broker with
            # auto.create.topics.enable create it with its default partitions.
            meta = admin.list_topics(timeout=timeout_seconds)
        except KafkaException as exc:
            raise MonitoringError(f"kafka: cannot read topic {topic}: {exc}") from exc
        found = meta.topics.get(topic)
        if found is not None and found.error is None:
            if len(found.partitions) != shards:
                raise ShardTopicMismatch(
                    f"the shard topic {topic} has {len(found.partitions)} partitions "
                    f"but MONITORING_ETL_SHARDS is {shards}: use the same shard count "
                    "for every worker of a group, or another MONITORING_ETL_SHARD_TOPIC"
                )
            return
        futures = admin.create_topics(
            [NewTopic(topic, shards, 1)], request_timeout=timeout_seconds
        )
        try:
            futures[topic].result(timeout=timeout_seconds)
            log.info("created the shard topic %s with %d partitions", topic, shards)
        except KafkaException as exc:
            if "already exists" not in str(exc).lower():
                raise MonitoringError(
                    f"kafka: cannot create the shard topic {topic}: {exc}"
                ) from exc


def _marker(worker: str, window: int, claimed: datetime, done: datetime | None) -> str:
    return json.dumps(
        {
            "window": window,
            "worker": worker,
            "claimed_at": claimed.isoformat(),
            "finished_at": done.isoformat() if done else None,
        },
        separators=(",", ":"),
    )


class KafkaShardLease:
    """This worker's shards, as a member of the ETL's consumer group.

    Args:
        bootstrap: the brokers.
        topic: the coordination topic (one partition per shard).
        group: the consumer group id; workers of one group share the shards.
        worker: this worker's static instance id.
        sharding: the shard count (must equal the topic's partitions).
        join_seconds: how long the first claim waits for the first assignment.
    """

    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        group: str,
        worker: str,
        sharding: Sharding,
        join_seconds: float = 30.0,
    ) -> None:
        self._topic = topic
        self._worker = worker
        self._sharding = sharding
        self._join_seconds = join_seconds
        self._lock = threading.Lock()
        self._owned: set[int] = set()
        # Shards claimed and not yet finished: their previous committed marker.
        self._claims: dict[int, TopicPartition] = {}
        self._joined = threading.Event()
        self._closing = threading.Event()
        self._waiting_for_id = False
        self._requests: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = (
            queue.Queue()
        )
        self._config = watched(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "group.protocol": "consumer",
                "group.instance.id": worker,
                # Ranges by sorted instance id: a restart gets its shards back.
                "group.remote.assignor": "range",
                "client.id": f"monitoring-etl-{worker}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "latest",
            },
            broker_state("kafka (shard group)"),
        )
        self._consumer = self._member()
        self._poller = threading.Thread(
            target=self._poll, name="shard-group", daemon=True
        )
        self._poller.start()

    def _member(self) -> Consumer:
        consumer = Consumer(self._config)
        consumer.subscribe(
            [self._topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        return consumer

    @property
    def worker(self) -> str:
        return self._worker

    def owned(self) -> frozenset[int]:
        self._joined.wait(self._join_seconds)
        with self._lock:
            return frozenset(self._owned)

    def claim(self, window: int) -> frozenset[int]:
        """Commit this worker's claim on its shards not yet claimed for ``window``.

        Raises:
            MonitoringError: the group's coordinator could not be reached, or
                no assignment came yet: nothing is claimed, so nothing is
                analysed (shards that may have moved could be analysed twice).
        """
        if not self._joined.wait(self._join_seconds):
            raise MonitoringError(
                f"no shard assigned by the group after {self._join_seconds:.0f}s "
                "(is the broker up?): this cycle analyses nothing"
            )
        done: Future[frozenset[int]] = Future()
        self._requests.put((lambda: self._claim(window), done))
        try:
            return done.result(timeout=3 * COMMIT_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            raise MonitoringError(
                "the shard group did not answer the claim in time, nothing claimed"
            ) from exc

    def _claim(self, window: int) -> frozenset[int]:
        """On the poller thread: no revocation can run meanwhile."""
        with self._lock:
            owned = sorted(self._owned)
        if not owned:
            return frozenset()
        try:
            current = self._consumer.committed(
                [TopicPartition(self._topic, s) for s in owned],
                timeout=COMMIT_TIMEOUT_SECONDS,
            )
        except KafkaException as exc:
            raise MonitoringError(
                f"cannot read the shard claims, nothing claimed: {exc}"
            ) from exc
        now = datetime.now(UTC)
        mine = [tp for tp in current if tp.error is None and _window_of(tp) < window]
        if not mine:
            return frozenset()
        claims = [
            TopicPartition(
                self._topic,
                tp.partition,
                window,
                metadata=_marker(self._worker, window, now, None),
            )
            for tp in mine
        ]
        if not self._commit(claims, "claim"):
            raise MonitoringError(
                "cannot commit the shard claims (see the warning above), "
                "nothing claimed"
            )
        with self._lock:
            for tp in mine:
                self._claims[tp.partition] = tp
        return frozenset(tp.partition for tp in mine)

    @contextmanager
    def publishing(
        self, shards: frozenset[int], claimed: bool = True
    ) -> Iterator[frozenset[int]]:
        with self._lock:
            yield still_held(shards, self._owned, self._claims.keys(), claimed)

    def finished(self, window: int, shards: frozenset[int], at: datetime) -> None:
        """Mark the shards finished (inside ``publishing``, so under the lock)."""
        done = []
        for s in sorted(shards):
            claim = self._claims.pop(s, None)
            if claim is None:
                continue
            done.append(
                TopicPartition(
                    self._topic,
                    s,
                    window,
                    metadata=_marker(self._worker, window, at, at),
                )
            )
        if done:
            # Committed by the poller, after this publication ends (it may be
            # waiting to revoke these shards). A failed commit leaves the
            # claim, which already prevents a second analysis in this window:
            # only the finish time is lost.
            self._requests.put((lambda: self._commit(done, "finish"), Future()))

    def close(self) -> None:
        """Leave the group (static members are not forgotten before their
        session times out, so a quick restart keeps its shards)."""
        self._closing.set()
        self._poller.join(timeout=5)
        try:
            self._consumer.close()
        except (KafkaException, RuntimeError) as exc:
            log.warning("closing the shard group consumer: %s", exc)

    def _poll(self) -> None:
        """The only thread that touches the consumer (librdkafka's calls
        from a second thread can wait for ever while this one polls)."""
        while not self._closing.is_set():
            try:
                message = self._consumer.poll(POLL_SECONDS)
            except (KafkaException, RuntimeError) as exc:
                if self._closing.is_set():
                    return
                log.warning("shard group: %s", exc)
                self._closing.wait(1.0)
                continue
            error = message.error() if message is not None else None
            if error is not None and error.code() == KafkaError._FATAL:
                self._rejoin(str(error.str()))
            self._serve()
        self._serve()

    def _rejoin(self, cause: str) -> None:
        """A fatal error ends a client: typically this instance id is still
        held by a process that was killed (the broker keeps it until its
        session times out). Drop every shard and join again with a new client
        every few seconds until the broker takes it."""
        with self._lock:
            lost = sorted(self._owned)
            self._owned.clear()
            self._claims.clear()
        if "instance" in cause.lower() and not self._waiting_for_id:
            log.warning(
                "instance id %s is still held by an earlier process of this "
                "worker (killed?); joining again until the broker's session "
                "timeout releases it",
                self._worker,
            )
        elif "instance" not in cause.lower():
            log.error("shard group: fatal error (%s); joining again", cause)
        self._waiting_for_id = "instance" in cause.lower()
        if lost:
            log.warning("shards lost with the failed client: %s", compact(lost))
        with contextlib.suppress(KafkaException, RuntimeError):
            self._consumer.close()
        self._closing.wait(REJOIN_SECONDS)
        if not self._closing.is_set():
            self._consumer = self._member()

    def _serve(self) -> None:
        while True:
            try:
                action, done = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                done.set_result(action())
            except Exception as exc:  # handed to the waiting caller
                done.set_exception(exc)

    def _commit(self, offsets: list[TopicPartition], what: str) -> bool:
        try:
            answers = self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            log.warning("shard group: %s of shards failed: %s", what, exc)
            return False
        failed = [tp for tp in answers or [] if tp.error is not None]
        if failed:
            log.warning(
                "shard group: %s of shards %s failed: %s",
                what,
                compact(tp.partition for tp in failed),
                failed[0].error,
            )
            return False
        return True

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self._waiting_for_id:
            log.info("instance id %s released: joined the group", self._worker)
            self._waiting_for_id = False
        with self._lock:
            self._owned |= {tp.partition for tp in partitions}
            owned = compact(self._owned)
        if partitions:
            log.info(
                "shards assigned: %s (now owns %s)",
                compact(tp.partition for tp in partitions),
                owned,
                extra={"event": "shards_assigned", "worker": self._worker},
            )
        self._joined.set()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._give_back(partitions, lost=False)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._give_back(partitions, lost=True)

    def _give_back(self, partitions: list[TopicPartition], lost: bool) -> None:
        """Waits for a publication under way; hands back unfinished claims."""
        gone = {tp.partition for tp in partitions}
        with self._lock:
            unfinished = [self._claims.pop(s) for s in sorted(gone & set(self._claims))]
            self._owned -= gone
            if unfinished and not lost:
                restore = [
                    TopicPartition(
                        self._topic,
                        tp.partition,
                        tp.offset if tp.offset >= 0 else 0,
                        metadata=tp.metadata or "",
                    )
                    for tp in unfinished
                ]
                self._commit(restore, "hand-back")
            owned = compact(self._owned)
        if gone:
            log.info(
                "shards %s: %s (now owns %s)%s",
                "lost" if lost else "revoked",
                compact(gone),
                owned,
                f"; {len(unfinished)} claimed but unpublished abandoned"
                if unfinished
                else "",
                extra={"event": "shards_revoked", "worker": self._worker},
            )


def _window_of(tp: TopicPartition) -> int:
    """The last window claimed for a shard, from its committed marker."""
    if tp.offset < 0 or not tp.metadata:
        return NO_WINDOW
    try:
        marker: Any = json.loads(tp.metadata)
        return int(marker["window"])
    except (ValueError, KeyError, TypeError):
        return int(tp.offset)
