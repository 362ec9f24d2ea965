"""Recovery after a broker or database outage (issue 16, ADR 0054).

Starts a private MariaDB and Kafka with ``scripts/services.sh`` (own folder and
ports, never the shared ones), then for each variant:

1. publishes one result every 50 ms through the ETL's Kafka publisher while a
   storage loop (the real ``StorageIngest`` over the real Kafka feed and SQL
   store) writes them to MariaDB;
2. stops Kafka for ``--kafka-outage`` seconds and starts it again: measures
   from the broker being ready again (a fresh client lists its topics) to the
   first acknowledgement of the ETL's producer and to the first batch storage
   writes, and counts the log lines (Python records and librdkafka's own
   stderr lines) written during the outage;
3. stops MariaDB for each of ``--db-outages`` seconds (10, 20, 30) and starts
   it again: measures from the database accepting a login to storage's first
   write.

Variants: ``default`` is the current code (kafka_publisher, kafka_feed, the
capped retry, static membership as storage has it by default), ``dynamic``
the same with dynamic membership (``MONITORING_KAFKA_INSTANCE_ID=none``),
``previous`` the default without the consumer's metadata refresh every 0.5 s;
``baseline`` is the code before issue 16's changes, rebuilt
here from its settings: librdkafka's defaults (reconnect back-off up to 10 s,
heartbeat 3 s, its own log lines), the retry doubling from 0.5 s to 30 s, and
consumer errors logged one by one. Results are ratios of the baseline to the
current code, same run, same servers.

    .venv/bin/python bench/recovery.py [--write]

Run it alone: it stops and starts its own servers, and takes about 7 minutes.
Repeated Kafka trials only, of the current code (about 25 s each)::

    .venv/bin/python bench/recovery.py --variants default --db-outages '' \
        --kafka-outages 10
"""

import argparse
import collections
import contextlib
import gc
import logging
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.host import cpu  # noqa: E402

from adapters.kafka import result_feed as feed_module  # noqa: E402
from adapters.kafka.result_feed import KafkaResultFeed, kafka_feed  # noqa: E402
from adapters.kafka.result_publisher import (  # noqa: E402
    KafkaResultPublisher,
    ensure_topic,
    kafka_publisher,
    producer_config,
)
from adapters.sql import migrate  # noqa: E402
from adapters.sql.result_store import sql_store  # noqa: E402
from adapters.system.clock import SystemClock  # noqa: E402
from monitoring_core.ports import Result, ResultStore  # noqa: E402
from monitoring_core.services.storage_ingest import Backoff, StorageIngest  # noqa: E402
from tests.support import factories  # noqa: E402

SERVICES = ROOT / "scripts" / "services.sh"
RESULTS = ROOT / "bench" / "RESULTS.md"
HOST = "127.0.0.1"
PERIOD = 0.05


@dataclass
class Ports:
    mariadb: int
    kafka: int
    controller: int
    folder: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "MONITORING_SERVICES_DIR": str(self.folder),
            "MONITORING_MARIADB_PORT": str(self.mariadb),
            "MONITORING_KAFKA_PORT": str(self.kafka),
            "MONITORING_KAFKA_CONTROLLER_PORT": str(self.controller),
        }

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.kafka}"

    @property
    def database(self) -> str:
        return f"mysql+pymysql://monitoring:monitoring@{HOST}:{self.mariadb}/monitoring"


def services(ports: Ports, *args: str) -> None:
    """``scripts/services.sh ARGS`` on the private set; it must succeed."""
    done = subprocess.run(
        ["bash", str(SERVICES), *args],
        env=ports.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"services.sh {' '.join(args)} failed:\n{done.stderr}")


def kafka_ready(bootstrap: str) -> bool:
    """A fresh client gets the broker's metadata."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        admin.list_topics(timeout=0.5)
        return True
    except Exception:
        return False


def database_ready(port: int) -> bool:
    """The monitoring user can log in over TCP."""
    import pymysql

    try:
        pymysql.connect(
            host=HOST,
            port=port,
            user="monitoring",
            password="monitoring",
            database="monitoring",
            connect_timeout=1,
        ).close()
        return True
    except Exception:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((HOST, port)) == 0


def wait_for(check: Callable[[], bool], timeout: float, every: float = 0.05) -> float:
    """The monotonic time ``check`` first held."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return math.inf
        time.sleep(every)
    return time.monotonic()


class StampedStore:
    """The real store, with the time of every successful write."""

    def __init__(self, store: ResultStore) -> None:
        self._store = store
        self.writes: list[float] = []

    def write(self, results: Sequence[Result]) -> None:
        self._store.write(results)
        self.writes.append(time.monotonic())

    def prune(self, older_than: datetime, batch_size: int) -> int:
        return self._store.prune(older_than, batch_size)

    def first_after(self, t: float) -> float | None:
        return next((w for w in self.writes if w > t), None)


class Telemetry:
    def observe_batch(self, size: int, rejected: int, write_seconds: float) -> None:
        pass

    def observe_store_failure(self) -> None:
        pass


class LineCounter(logging.Handler):
    """Counts log records of WARNING and above while ``counting``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counting = False
        self.count = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if self.counting:
            self.count += 1
            self.samples.append(record.getMessage()[:70])


@contextlib.contextmanager
def stderr_lines() -> Iterator[list[Any]]:
    """Count the lines written to fd 2 (librdkafka's own log) meanwhile; the
    second item is a few of them, their time stamps cut off."""
    found: list[Any] = [0, []]
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield found
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines()
            found[0] = len(lines)
            kinds = collections.Counter(_kind(line) for line in lines)
            found[1] = [f"{n} x {kind}" for kind, n in kinds.most_common(4)]


def _kind(line: str) -> str:
    """``%3|…|FAIL|client#consumer-1|…`` -> ``%3 FAIL client#consumer-1``."""
    parts = line.split("|")
    if len(parts) < 4:
        return line[:40]
    return f"{parts[0]} {parts[2]} {parts[3]}"


@dataclass
class Outcome:
    variant: str
    kafka_deliver: float = 0.0
    kafka_store: float = 0.0
    kafka_stores: list[float] = field(default_factory=list)
    kafka_lines: int = 0
    kafka_outage: float = 0.0
    db_store: list[float] = field(default_factory=list)
    db_lines: list[int] = field(default_factory=list)
    kafka_samples: list[str] = field(default_factory=list)
    librdkafka_lines: int = 0
    librdkafka_kinds: list[str] = field(default_factory=list)


@contextlib.contextmanager
def baseline_publisher(bootstrap: str, topic: str) -> Iterator[KafkaResultPublisher]:
    """The ETL's producer as it was: librdkafka's defaults, no watch, no poller."""
    producer = Producer(producer_config(bootstrap, 200_000))
    publisher = KafkaResultPublisher(producer, topic, SystemClock())
    stop = threading.Event()

    def poll() -> None:  # delivery reports, as the ETL's publish() served them
        while not stop.is_set():
            producer.poll(0.5)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        yield publisher
    finally:
        stop.set()
        poller.join()
        producer.flush(10)


@contextlib.contextmanager
def baseline_feed(bootstrap: str, topic: str, group: str) -> Iterator[KafkaResultFeed]:
    """The storage consumer as it was: librdkafka's defaults but for the session."""
    config = feed_module.consumer_config(bootstrap, group, None)
    config.pop("heartbeat.interval.ms", None)
    config.pop("topic.metadata.refresh.interval.ms", None)
    consumer = Consumer(config)
    producer = Producer(producer_config(bootstrap, 1000))
    feed = KafkaResultFeed(consumer, producer, f"{topic}.dl")
    feed.subscribe(topic)
    try:
        yield feed
    finally:
        consumer.close()


def kafka_outage(
    ports: Ports,
    seconds: float,
    publisher: KafkaResultPublisher,
    store: StampedStore,
    counter: LineCounter,
    outcome: Outcome,
) -> None:
    """Stop Kafka, start it again, and time the first acknowledgement and write."""
    with stderr_lines() as librdkafka:
        counter.counting, counter.count, counter.samples = True, 0, []
        went = time.monotonic()
        services(ports, "down", "kafka")
        acked_before = publisher.delivered
        time.sleep(seconds)
        starter = threading.Thread(target=services, args=(ports, "up", "kafka"))
        starter.start()
        ready = wait_for(lambda: kafka_ready(ports.bootstrap), 120)
        counter.counting = False
        outcome.kafka_outage = ready - went
        delivered = wait_for(lambda: publisher.delivered > acked_before, 120, 0.01)
        wait_for(lambda: store.first_after(ready) is not None, 120, 0.01)
        starter.join()
    outcome.kafka_deliver = delivered - ready
    outcome.kafka_store = (store.first_after(ready) or ready) - ready
    outcome.librdkafka_lines = librdkafka[0]
    outcome.librdkafka_kinds = librdkafka[1]
    outcome.kafka_lines = counter.count + librdkafka[0]
    outcome.kafka_samples = list(counter.samples)


def database_outage(
    ports: Ports,
    seconds: float,
    store: StampedStore,
    counter: LineCounter,
    outcome: Outcome,
) -> None:
    """Stop MariaDB, start it again, and time storage's first write."""
    counter.counting, counter.count = True, 0
    services(ports, "down", "mariadb")
    time.sleep(seconds)
    starter = threading.Thread(target=services, args=(ports, "up", "mariadb"))
    starter.start()
    ready = wait_for(lambda: database_ready(ports.mariadb), 120, 0.02)
    counter.counting = False
    wait_for(lambda: store.first_after(ready) is not None, 120, 0.01)
    outcome.db_store.append((store.first_after(ready) or ready) - ready)
    outcome.db_lines.append(counter.count)
    starter.join()


@contextlib.contextmanager
def previous_consumer_config() -> Iterator[None]:
    """Storage's consumer as before the metadata refresh of every 0.5 s
    (librdkafka's 5 minutes): the ``previous`` variant."""
    current = feed_module.consumer_config

    def previous(*args: Any) -> dict[str, Any]:
        config = current(*args)
        config.pop("topic.metadata.refresh.interval.ms", None)
        return config

    feed_module.consumer_config = previous  # type: ignore[assignment]
    try:
        yield
    finally:
        feed_module.consumer_config = current  # type: ignore[assignment]


@contextlib.contextmanager
def clients(
    variant: str, ports: Ports, topic: str, group: str
) -> Iterator[tuple[KafkaResultPublisher, KafkaResultFeed]]:
    """The ETL's publisher and storage's feed of ``variant``."""
    with contextlib.ExitStack() as stack:
        if variant == "baseline":
            publisher = stack.enter_context(baseline_publisher(ports.bootstrap, topic))
            feed = stack.enter_context(baseline_feed(ports.bootstrap, topic, group))
        else:
            publisher = stack.enter_context(
                kafka_publisher(ports.bootstrap, topic, SystemClock(), 200_000, 10)
            )
            static = variant in ("default", "previous")
            instance = f"bench-{uuid.uuid4().hex[:6]}" if static else None
            if variant == "previous":
                stack.enter_context(previous_consumer_config())
            feed = stack.enter_context(
                kafka_feed(ports.bootstrap, topic, group, instance, f"{topic}.dl")
            )
        yield publisher, feed


def trial(variant: str, ports: Ports, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(variant)
    topic = f"recovery-{uuid.uuid4().hex[:8]}"
    group = f"recovery-{uuid.uuid4().hex[:8]}"
    ensure_topic(ports.bootstrap, topic, 4)
    ensure_topic(ports.bootstrap, f"{topic}.dl", 1)
    counter = LineCounter()
    logging.getLogger().addHandler(counter)
    stop = threading.Event()
    with contextlib.ExitStack() as stack:
        publisher, feed = stack.enter_context(clients(variant, ports, topic, group))
        store = StampedStore(stack.enter_context(sql_store(ports.database)))
        ingest = StorageIngest(
            feed=feed,
            store=store,
            telemetry=Telemetry(),
            batch_size=500,
            poll_seconds=0.2,
            should_stop=stop.is_set,
        )
        if variant == "baseline":
            ingest._backoff = Backoff(0.5, 30.0)  # the retry before issue 16
        threads = [
            threading.Thread(target=produce, args=(publisher, stop), daemon=True),
            threading.Thread(target=consume, args=(ingest, stop), daemon=True),
        ]
        for t in threads:
            t.start()
        wait_for(lambda: len(store.writes) > 3, 60)
        for n in range(args.kafka_outages):
            if n:
                time.sleep(2)  # writing again before the next outage
            kafka_outage(ports, args.kafka_outage, publisher, store, counter, outcome)
            outcome.kafka_stores.append(outcome.kafka_store)
            print(
                f"{variant}: Kafka outage {n + 1}: storage's first write "
                f"{outcome.kafka_store:.2f} s after the broker was back",
                flush=True,
            )
        outcome.kafka_store = max(outcome.kafka_stores)
        for seconds in args.db_outages:
            database_outage(ports, seconds, store, counter, outcome)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    logging.getLogger().removeHandler(counter)
    gc.collect()  # the variant's clients, before the next one's outage
    return outcome


def produce(publisher: KafkaResultPublisher, stop: threading.Event) -> None:
    """One result every 50 ms, as an ETL would hand them over."""
    score = factories.score()
    n = 0
    while not stop.is_set():
        n += 1
        at = score.scored_at + timedelta(milliseconds=n)
        try:
            publisher.publish([attrs.evolve(score, scored_at=at)])
        except Exception as exc:  # a full buffer: keep trying
            print(f"publish: {exc}", file=sys.stderr)
        time.sleep(PERIOD)


def consume(ingest: StorageIngest, stop: threading.Event) -> None:
    """Storage's loop. Its end is printed to stdout with the traceback: during
    a Kafka outage stderr is captured (librdkafka's lines are counted), and a
    loop ended by an exception there looked like storage never resuming."""
    while not stop.is_set():
        try:
            ingest.step()
        except Exception:
            if not stop.is_set():
                print(f"storage loop ended at {time.monotonic():.2f}:", flush=True)
                traceback.print_exc(file=sys.stdout)
            return


def report(outcomes: dict[str, Outcome], args: argparse.Namespace) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b > 0 else "n/a"

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    outages = ", ".join(f"{s:.0f}" for s in args.db_outages)
    lines = [
        f"## Recovery after a Kafka and a MariaDB outage ({now})",
        "",
        f"Machine: {cpu()}, Python {sys.version.split()[0]}. `bench/recovery.py`: a "
        "private Kafka 4.1.1 and MariaDB (scripts/services.sh, own folder and ports), "
        "one result every 50 ms through the ETL's publisher, storage (StorageIngest, "
        f"Kafka feed, SQL store) writing them; Kafka stopped {args.kafka_outage:.0f} s, "
        f'then MariaDB {outages} s. "Back" is when a fresh client gets the broker\'s '
        "metadata, or the database accepts a login. Baseline: the settings before "
        "issue 16 (librdkafka's defaults, retry 0.5 s doubling to 30 s, dynamic "
        "membership); default: the current defaults (static membership); dynamic: "
        "the same with `MONITORING_KAFKA_INSTANCE_ID=none`.",
        "",
        "| measure | "
        + " | ".join(outcomes)
        + " | baseline / default | baseline / dynamic |",
        "|---|" + "---|" * (len(outcomes) + 2),
    ]

    def row(label: str, values: dict[str, float], unit: str = "s") -> None:
        cells = " | ".join(f"{v:.2f} {unit}" for v in values.values())
        b = values["baseline"]
        lines.append(
            f"| {label} | {cells} | {ratio(b, values['default'])} | "
            f"{ratio(b, values['dynamic'])} |"
        )

    row(
        "Kafka back -> ETL's first acknowledgement",
        {k: o.kafka_deliver for k, o in outcomes.items()},
    )
    row(
        "Kafka back -> storage's first write",
        {k: o.kafka_store for k, o in outcomes.items()},
    )
    row(
        "database back -> storage's first write, worst of the outages",
        {k: max(o.db_store) for k, o in outcomes.items()},
    )
    row(
        "database back -> storage's first write, mean",
        {k: sum(o.db_store) / len(o.db_store) for k, o in outcomes.items()},
    )
    rates = {k: o.kafka_lines / max(o.kafka_outage, 1e-9) for k, o in outcomes.items()}
    row("log lines a second during the Kafka outage", rates, "")
    lines += [
        "",
        "Log lines during the Kafka outage: "
        + "; ".join(
            f"{k} {o.kafka_lines} in {o.kafka_outage:.0f} s "
            f"({o.librdkafka_lines} of librdkafka's own: "
            f"{', '.join(o.librdkafka_kinds) or 'none'})"
            for k, o in outcomes.items()
        )
        + ". During each database outage: "
        + "; ".join(f"{k} {o.db_lines}" for k, o in outcomes.items())
        + " (baseline's storage already logged through the new state tracker).",
        "",
        "The current code's lines during the Kafka outage (default variant):",
        "",
    ]
    counted = collections.Counter(outcomes["default"].kafka_samples)
    lines += [f"- {n} x `{text}`" for text, n in counted.most_common()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kafka-outage", type=float, default=15.0)
    parser.add_argument(
        "--kafka-outages",
        type=int,
        default=1,
        help="Kafka outages in a row per variant (the worst is reported)",
    )
    parser.add_argument(
        "--db-outages",
        type=lambda text: [float(x) for x in text.split(",") if x],
        default=[10.0, 20.0, 30.0],
        help="seconds of each database outage, comma-separated",
    )
    parser.add_argument("--mariadb-port", type=int, default=23306)
    parser.add_argument("--kafka-port", type=int, default=29092)
    parser.add_argument("--controller-port", type=int, default=29093)
    parser.add_argument(
        "--folder", type=Path, default=Path("/tmp/monitoring-recovery-bench")
    )
    parser.add_argument("--keep", action="store_true", help="leave the servers up")
    parser.add_argument(
        "--variants",
        type=lambda text: text.split(","),
        default=["baseline", "dynamic", "default"],
    )
    parser.add_argument("--write", action="store_true", help="append to RESULTS.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stdout)
    ports = Ports(args.mariadb_port, args.kafka_port, args.controller_port, args.folder)
    services(ports, "up", "mariadb", "kafka")
    try:
        migrate.upgrade(ports.database)
        outcomes: dict[str, Outcome] = {}
        for variant in args.variants:
            print(f"--- {variant}", flush=True)
            outcomes[variant] = trial(variant, ports, args)
            print(outcomes[variant], flush=True)
    finally:
        if not args.keep:
            services(ports, "down", "mariadb", "kafka")
    if set(outcomes) != {"baseline", "dynamic", "default"} or not args.db_outages:
        # A partial run (--variants, --db-outages ''): no table of ratios.
        for name, o in outcomes.items():
            stores = ", ".join(f"{t:.2f}" for t in o.kafka_stores)
            print(f"{name}: storage's first write after Kafka was back: {stores} s")
        return
    text = report(outcomes, args)
    print(text)
    if args.write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
