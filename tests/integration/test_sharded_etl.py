"""Issue 16, acceptance 1: three ETL workers share 64 shards through a real
Kafka consumer group (KIP-848, static membership; ADR 0055).

Real ``monitoring etl`` processes read the local Prometheus (node-exporter,
about 500 series) every 5 s and publish to a fresh topic; the test reads the
topic. Throughout, no series is analysed twice in one cycle window (counted on
the window statistics published, and on the shards of the ``etl_run``
records). Then:

- a worker stopped and restarted with the same instance id within the
  broker's session timeout gets exactly its shards back, with no rebalance;
- a worker killed with SIGKILL and restarted at once is refused by the broker
  until its old session ends (KIP-848), joins again by itself, and takes a
  share; no shard is analysed twice meanwhile;
- a worker killed and left dead: within the session timeout plus one cycle the
  two survivors cover every shard; restarted later with its id, it gets a
  third of the shards again (not necessarily the same ones).
"""

import signal
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitoring_core.sharding import compact
from tests.support.processes import Service, eventually, start_service
from tests.support.servers import server
from tests.support.topics import Topic

SHARDS = 64
CYCLE = 5
SESSION_SECONDS = 10  # group.consumer.session.timeout.ms of scripts/services.sh
SELECTOR = '{job="node"}'


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    with server("PROMETHEUS_URL") as url:
        yield url


class Group:
    """Three workers of one group, their topic, and what they published."""

    def __init__(
        self, folder: Path, prometheus: str, kafka: str, services: list[Service]
    ) -> None:
        name = f"shards-{uuid.uuid4().hex[:10]}"
        self.topic = Topic(kafka, name)
        self.folder = folder
        self.services = services
        self.env = {
            "MONITORING_PROMETHEUS_URL": prometheus,
            "MONITORING_KAFKA_BOOTSTRAP": kafka,
            "MONITORING_KAFKA_TOPIC": name,
            "MONITORING_KAFKA_FLUSH_SECONDS": "5",
            "MONITORING_ETL_GROUP": f"{name}.workers",
            "MONITORING_SERIES_SELECTORS": SELECTOR,
            "MONITORING_FORECAST_SELECTORS": "none",
            "MONITORING_WINDOWS": "1m",
            "MONITORING_CYCLE_SECONDS": str(CYCLE),
            "MONITORING_METADATA_LOOKBACK": "10m",
            "MONITORING_METADATA_STEP": "15s",
            "MONITORING_ETL_METRICS_PORT": "0",
            "MONITORING_LOG_LEVEL": "INFO",
        }
        self.workers: dict[str, Service] = {}

    def start(self, worker: str) -> Service:
        env = {
            **self.env,
            "MONITORING_ETL_INSTANCE_ID": worker,
            "MONITORING_ETL_STATE_PATH": str(self.folder / worker / "etl.sqlite"),
        }
        service = start_service(
            f"{worker}-{uuid.uuid4().hex[:4]}", ["etl"], env, self.folder
        )
        self.services.append(service)
        self.workers[worker] = service
        return service

    def kill(self, worker: str) -> datetime:
        service = self.workers.pop(worker)
        service.signal(signal.SIGKILL)
        assert service.wait(10) == -signal.SIGKILL, service.tail()
        return datetime.now().astimezone()

    def stop(self, worker: str) -> None:
        service = self.workers.pop(worker)
        service.signal(signal.SIGTERM)
        assert service.wait(30) == 0, service.tail()

    def runs(self) -> list[dict[str, Any]]:
        """Analysis cycles' records (the metadata thread's have no window step)."""
        return [
            m
            for m in self.topic.of_type("etl_run")
            if any(s["step"] == "window_stats" for s in m["data"]["steps"])
        ]

    def shards_of(self, worker: str, since: datetime) -> set[int]:
        """The shards of the worker's latest cycle started after ``since``."""
        mine = [
            r
            for r in self.runs()
            if r["data"]["worker"] == worker and _started(r) > since
        ]
        assert mine, f"no cycle of {worker} since {since}"
        return set(mine[-1]["data"]["shards"])

    def windows(self) -> dict[int, list[dict[str, Any]]]:
        by_window: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for run in self.runs():
            by_window[_window(_started(run))].append(run)
        return by_window

    def check_never_twice(self) -> None:
        stats = Counter(
            (m["series"]["id"], _window(_at(m)))
            for m in self.topic.of_type("window_stats")
        )
        twice = [key for key, n in stats.items() if n > 1]
        assert stats and not twice, (
            f"analysed twice in one window: {twice[:5]}; the cycles of those "
            f"windows: {_summary(self.windows(), {w for _, w in twice})}; "
            f"{len(twice)} of {len(stats)}; first: "
            + str(
                [
                    m
                    for m in self.topic.of_type("window_stats")
                    if twice and (m["series"]["id"], _window(_at(m))) == twice[0]
                ]
            )[:1500]
        )
        for window, runs in self.windows().items():
            shards = [s for r in runs for s in r["data"]["shards"]]
            assert len(shards) == len(set(shards)), (
                f"window {window}: a shard in two cycles: {runs}"
            )

    def covered_windows(self) -> list[int]:
        """Windows in which the cycles covered every shard."""
        return sorted(
            w
            for w, runs in self.windows().items()
            if {s for r in runs for s in r["data"]["shards"]} == set(range(SHARDS))
        )


def _summary(windows: dict[int, list[dict[str, Any]]], wanted: set[int]) -> str:
    return "; ".join(
        f"{w}: "
        + ", ".join(
            f"{r['data']['worker']} at {r['data']['started_at']} "
            f"shards {r['data']['shards']}"
            for r in windows.get(w, [])
        )
        for w in sorted(wanted)
    )


def _started(run: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(run["data"]["started_at"])


def _at(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(message["data"]["at"])


def _window(at: datetime) -> int:
    return int(at.timestamp()) // CYCLE


@pytest.fixture
def group(
    tmp_path: Path,
    prometheus_url: str,
    kafka_bootstrap: str,
    services: list[Service],
) -> Iterator[Group]:
    made = Group(tmp_path, prometheus_url, kafka_bootstrap, services)
    yield made
    made.topic.close()


def _balanced(group: Group, since: datetime) -> dict[str, set[int]]:
    """Each live worker's shards, once they split all 64 about evenly."""

    def check() -> dict[str, set[int]]:
        owned = {w: group.shards_of(w, since) for w in group.workers}
        union = set().union(*owned.values())
        assert union == set(range(SHARDS)), f"not all shards covered: {owned}"
        assert sum(map(len, owned.values())) == SHARDS, f"overlap: {owned}"
        sizes = sorted(map(len, owned.values()))
        assert sizes[-1] - sizes[0] <= 1, f"not balanced yet: {sizes}"
        return owned

    return eventually(
        check,
        timeout=60,
        what="workers sharing the shards",
        services=list(group.workers.values()),
    )


def test_three_workers_share_the_shards_and_survive_a_kill(group: Group) -> None:
    begun = datetime.now().astimezone()
    for worker in ("w1", "w2", "w3"):
        group.start(worker)
    owned = _balanced(group, begun)
    group.check_never_twice()

    # Metadata is sharded the same way: each worker describes the series of
    # the shards it was given after it started, within seconds.
    def described() -> None:
        analysed = {m["series"]["id"] for m in group.topic.of_type("window_stats")}
        meta = {m["series"]["id"] for m in group.topic.of_type("metadata")}
        assert analysed and analysed <= meta, f"{len(analysed - meta)} undescribed"

    eventually(
        described,
        timeout=30,
        what="metadata of every series",
        services=list(group.workers.values()),
    )

    # Stopped and restarted within the session timeout: the same shards,
    # without a rebalance (a static member's leave keeps its assignment).
    group.stop("w2")
    back = datetime.now().astimezone()
    group.start("w2")
    assert _balanced(group, back) == owned
    group.check_never_twice()

    # Killed and restarted at once: the broker holds the id until the old
    # session times out; the new process joins again until it is let in.
    group.kill("w1")
    group.start("w1")
    rejoined = datetime.now().astimezone()
    owned = _balanced(group, rejoined)
    assert "still held by an earlier process" in group.workers["w1"].stderr.read_text()
    group.check_never_twice()

    # Killed and left dead: the survivors take its shards.
    killed = group.kill("w3")
    coverage_deadline = SESSION_SECONDS + CYCLE

    def survivors_cover() -> int:
        after = [w for w in group.covered_windows() if w * CYCLE > killed.timestamp()]
        assert after, "no window covered by the survivors yet"
        assert {r["data"]["worker"] for r in group.windows()[after[0]]} <= {"w1", "w2"}
        return after[0]

    first = eventually(
        survivors_cover,
        timeout=60,
        what="the survivors covering every shard",
        services=list(group.workers.values()),
    )
    delay = first * CYCLE - killed.timestamp()
    assert delay <= coverage_deadline + CYCLE, (
        f"first fully covered window started {delay:.1f}s after the kill"
    )
    group.check_never_twice()

    # Restarted with its id after its session ended and its shards went to
    # the survivors: the broker's range assignor gives the same instance id
    # the same range among three workers again (ADR 0055).
    again = datetime.now().astimezone()
    group.start("w3")
    shares = _balanced(group, again)
    assert shares["w3"] == owned["w3"], (
        f"w3 had {compact(owned['w3'])}, has {compact(shares['w3'])}"
    )
    assert shares == owned
    group.check_never_twice()
