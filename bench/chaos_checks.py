"""The chaos suite's checks: the results topic against MariaDB, and coverage.

What is counted (ADR 0059):

- **result key**: what identifies one stored result, read from the topic's
  JSON by hand (not through the project's codec): ``window_stats`` one key per
  window entry, (series id, ``at`` in ms, window seconds); ``forecast`` (series,
  ``made_at``); ``forecast_score`` (series, ``forecast_made_at``); ``metadata``
  (series, ``computed_at``); ``etl_run`` its run id. These are the primary keys
  of the SQL tables, so a key is stored at most once by construction.
- **lost**: a key on the topic that is not in MariaDB once storage has caught up
  (everything read from the topic, waited for up to a deadline).
- **phantom**: a key in MariaDB that never was on the topic.
- **redelivered**: a key that came more than once on the topic (harmless, the
  write is idempotent, but counted).
- **coverage**: cycle window ``w`` = floor(cycle start epoch s / cycle seconds);
  a ``window_stats`` row's ``at`` is its cycle's start, so the rows say which
  series were analysed in which window. A window is complete when every series
  of the exporter (asked from Prometheus at the start) has a row in it.
- **analysed twice**: a series with rows of two different cycles (two ``at``)
  in one window, i.e. two workers or two cycles analysed it in that window.
- **shards**: from the ``etl_run`` records of analysis cycles that carry
  ``shards`` (ADR 0055): the shards covered per window, and shards covered by
  two runs of one window.
"""

import collections
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

Key = tuple[Any, ...]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STATS_WINDOW_SECONDS = 60


def ms(text: str) -> int:
    """RFC 3339 text as exact epoch milliseconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment - EPOCH) // timedelta(milliseconds=1)


def keys_of(body: dict[str, Any]) -> list[Key]:
    """The result keys one topic message carries."""
    kind, data = body["type"], body["data"]
    if kind == "etl_run":
        return [("etl_run", data["run_id"])]
    series = body["series"]["id"]
    if kind == "window_stats":
        at = ms(data["at"])
        return [
            ("window_stats", series, at, w["window_seconds"]) for w in data["windows"]
        ]
    field_of = {
        "forecast": "made_at",
        "forecast_score": "forecast_made_at",
        "metadata": "computed_at",
    }
    return [(kind, series, ms(data[field_of[kind]]))]


class TopicLedger:
    """Every result key that came on a topic, read from its beginning."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.ends: dict[int, int] = {}
        self.counts: collections.Counter[Key] = collections.Counter()
        self.runs: dict[str, dict[str, Any]] = {}
        self.messages = 0
        self._next: dict[int, int] = {}
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"chaos-ledger-{time.time_ns()}",
                "enable.auto.commit": False,
                "log_level": 2,
            }
        )

    def _assign(self) -> None:
        meta = self._consumer.list_topics(self.topic, timeout=10)
        partitions = (
            meta.topics[self.topic].partitions if self.topic in meta.topics else {}
        )
        new = [p for p in partitions if p not in self._next]
        if new:
            for p in new:
                self._next[p] = 0
            self._consumer.assign(
                [
                    TopicPartition(self.topic, p, self._next[p] or OFFSET_BEGINNING)
                    for p in self._next
                ]
            )

    def drain(self, timeout: float = 60) -> None:
        """Read up to the partitions' ends as they are now."""
        self._assign()
        ends = {}
        for p in self._next:
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, p), timeout=10
            )
            ends[p] = high
        self.ends = ends
        deadline = time.monotonic() + timeout
        while any(self._next[p] < ends[p] for p in ends):
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not read {self.topic} to its end")
            message = self._consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            if message.offset() < self._next[message.partition()]:
                continue  # fetched again after a re-assignment: read already
            self._next[message.partition()] = message.offset() + 1
            self.messages += 1
            try:
                body = json.loads(message.value() or b"{}")
                found = keys_of(body)
            except (ValueError, KeyError, TypeError):  # a dead letter's own bytes
                continue
            for key in found:
                self.counts[key] += 1
            if body["type"] == "etl_run":
                self.runs[body["data"]["run_id"]] = body["data"]

    def close(self) -> None:
        self._consumer.close()


def stored_keys(engine: sa.Engine) -> set[Key]:
    """Every result key in MariaDB."""
    queries = {
        "window_stats": "SELECT series_id, at, window_seconds FROM window_stats",
        "forecast": "SELECT series_id, made_at FROM forecasts",
        "forecast_score": "SELECT series_id, forecast_made_at FROM forecast_scores",
        "metadata": "SELECT series_id, computed_at FROM metadata",
        "etl_run": "SELECT run_id FROM etl_runs",
    }
    keys: set[Key] = set()
    with engine.connect() as connection:
        for kind, query in queries.items():
            keys |= {(kind, *row) for row in connection.execute(sa.text(query))}
    return keys


@dataclass
class Ledger:
    """Topic against database at one moment."""

    on_topic: int
    lost: set[Key]
    phantom: set[Key]
    redelivered: int
    dead_lettered: int
    caught_up_seconds: float


def committed(
    bootstrap: str, group: str, topic: str, partitions: list[int]
) -> dict[int, int]:
    """The offsets ``group`` committed (storage commits after writing)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "log_level": 2}
    )
    try:
        found = consumer.committed(
            [TopicPartition(topic, p) for p in partitions], timeout=10
        )
        return {tp.partition: tp.offset for tp in found}
    finally:
        consumer.close()


def compare(
    ledger: TopicLedger,
    engine: sa.Engine,
    group: str,
    dead_letters: "TopicLedger",
    wait: float,
) -> Ledger:
    """Drain the topic, wait up to ``wait`` s until storage's group committed
    everything read (written or dead-lettered), then compare keys."""
    ledger.drain()
    ends = dict(ledger.ends)
    started = time.monotonic()

    def caught_up() -> bool:
        done = committed(ledger.bootstrap, group, ledger.topic, list(ends))
        return all(done.get(p, -1) >= end for p, end in ends.items())

    while not caught_up() and time.monotonic() - started < wait:
        time.sleep(0.5)
    caught = time.monotonic() - started
    stored = stored_keys(engine)
    topic = set(ledger.counts)
    ledger.drain()  # what came meanwhile makes the phantom check exact
    dead_letters.drain()
    return Ledger(
        on_topic=len(topic),
        lost=topic - stored,
        phantom=stored - set(ledger.counts),
        redelivered=sum(n - 1 for n in ledger.counts.values() if n > 1),
        dead_lettered=dead_letters.messages,
        caught_up_seconds=caught,
    )


def expected_series(prometheus: str) -> set[str]:
    """The ids of every series the exporter's job has, asked from Prometheus."""
    import requests

    answer = requests.get(
        f"{prometheus}/api/v1/series",
        params={"match[]": '{job="chaos"}'},
        timeout=10,
        proxies={"http": "", "https": ""},
    ).json()
    return {series_id(labels) for labels in answer["data"]}


def series_id(labels: dict[str, str]) -> str:
    """The id docs/messages.md defines: SHA-256 of ``name{a="1",b="2"}``."""
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    text = f"{labels['__name__']}{{{inner}}}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class WindowCoverage:
    """Which series were analysed in each cycle window, from stored rows."""

    analysed: dict[int, collections.Counter[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, engine: sa.Engine, cycle_seconds: int) -> "WindowCoverage":
        found: dict[int, dict[str, set[int]]] = collections.defaultdict(
            lambda: collections.defaultdict(set)
        )
        query = sa.text(
            "SELECT series_id, at FROM window_stats WHERE window_seconds = :w"
        )
        with engine.connect() as connection:
            for series, at in connection.execute(query, {"w": STATS_WINDOW_SECONDS}):
                found[at // 1000 // cycle_seconds][series].add(at)
        coverage = cls()
        for window, series in found.items():
            coverage.analysed[window] = collections.Counter(
                {s: len(ats) for s, ats in series.items()}
            )
        return coverage

    def missing(self, window: int, expected: set[str]) -> set[str]:
        return expected - set(self.analysed.get(window, {}))

    def twice(self, window: int) -> int:
        """Series analysed by more than one cycle in ``window``."""
        return sum(1 for n in self.analysed.get(window, {}).values() if n > 1)


@dataclass
class ShardCoverage:
    """Shards per window from the ``etl_run`` records that name them."""

    covered: dict[int, collections.Counter[int]] = field(default_factory=dict)
    aborted: int = 0

    @classmethod
    def of(cls, runs: Iterable[dict[str, Any]], cycle_seconds: int) -> "ShardCoverage":
        result = cls()
        for run in runs:
            if "aborted" in run:
                result.aborted += 1
                continue
            analysis = any(
                s.get("step") == "window_stats" for s in run.get("steps", [])
            )
            if not analysis or run.get("shards") is None:
                continue
            window = ms(run["started_at"]) // 1000 // cycle_seconds
            counter = result.covered.setdefault(window, collections.Counter())
            counter.update(run["shards"])
        return result

    def known(self) -> bool:
        return bool(self.covered)

    def missing(self, window: int, count: int) -> int:
        return count - len(self.covered.get(window, {}))

    def twice(self, window: int) -> int:
        return sum(1 for n in self.covered.get(window, {}).values() if n > 1)
