"""Benchmark of the storage service: results/s from Kafka into MariaDB.

Usage: ``python bench/storage_ingest.py [--results 200000] [--instances 1,2]``
with ``MONITORING_TEST_KAFKA_BOOTSTRAP`` set (``make services-up``).

Every run starts real ``monitoring storage`` processes (the service as it is
deployed: consumer group -> decode -> one transaction of batched idempotent
upserts -> offset commit), N instances in one consumer group, against a private
MariaDB of its own. Once the group is stable, a thread of the bench produces the
results (distinct window statistics and forecasts, as the ETL publishes them)
into the empty topic while the main thread samples the group's committed
offsets and everyone's CPU every 25 ms. Two figures come out of a run: end to
end, from the first message produced until the last one is committed (ramp-up
and the producer on the same cores included), and the steady state, from 10 %
to 90 % of the messages committed once the producer is done. The stored rows
are then checked against the results. The same invocation measures each number
of ``--instances`` and the one-message-per-transaction baseline; the report is
appended to ``bench/RESULTS.md``.
"""

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import host  # noqa: E402
from confluent_kafka import (  # noqa: E402
    Consumer,
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient  # noqa: E402

from adapters.kafka.result_publisher import ensure_topic  # noqa: E402
from adapters.sql import migrate  # noqa: E402
from monitoring_core.forecasts import Forecast  # noqa: E402
from monitoring_core.ports import Result  # noqa: E402
from monitoring_core.windows import SeriesWindowStats  # noqa: E402
from tests.integration.test_storage_service import (  # noqa: E402
    _payloads,
    _produce,
    _results,
)
from tests.support.mariadb import PrivateMariaDb, private_mariadb  # noqa: E402
from tests.support.prometheus import free_port  # noqa: E402
from tests.support.storage import row_counts  # noqa: E402

PARTITIONS = 4
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One measurement: ``instances`` storage processes draining ``results``."""

    label: str
    instances: int
    batch: int
    source: Path | None = None
    """Another checkout's ``src`` to run the service from (a before/after)."""
    results: int = 0
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    """Cores used during the measurement (CPU seconds per second), by whom."""
    steady_seconds: float = 0.0
    steady_results: int = 0
    steady_cpu: dict[str, float] = field(default_factory=dict)
    """The same once the producer is done, from 10 % to 90 % committed."""

    @property
    def rate(self) -> float:
        return self.results / self.seconds

    @property
    def steady_rate(self) -> float:
        return self.steady_results / self.steady_seconds if self.steady_seconds else 0


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def _machine_cpu() -> tuple[float, float]:
    """Busy and total CPU seconds of the machine so far (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICK, sum(values) / CLOCK_TICK


def _kafka_pid() -> int | None:
    """The broker that ``scripts/services.sh`` started, to account for its CPU
    (None when it is not that one: its CPU then counts as anything else)."""
    try:
        pid = int((ROOT / ".services" / "run" / "kafka.pid").read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"kafka.Kafka" in command else None


def _results_for(count: int) -> list[Result]:
    """About ``count`` distinct results: 10 window statistics and one forecast
    per series, as the ETL publishes them."""
    return _results(series=max(count // 11, 1), times=10)[:count]


def _expected_rows(results: list[Result]) -> dict[str, int]:
    """The rows that storing ``results`` must leave behind."""
    stats = [r for r in results if isinstance(r, SeriesWindowStats)]
    return {
        "series": len({r.series.id for r in stats}),
        "window_stats": sum(len(r.windows) for r in stats),
        "forecasts": sum(isinstance(r, Forecast) for r in results),
    }


class Group:
    """Watches one consumer group from outside: members and committed offsets."""

    def __init__(self, bootstrap: str, topic: str, group: str) -> None:
        self._admin = AdminClient({"bootstrap.servers": bootstrap})
        self._topic, self._group = topic, group
        self._parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]

    def stable_with(self, members: int) -> bool:
        """Whether the group is stable with ``members`` members, each assigned."""
        found = self._admin.describe_consumer_groups([self._group])[self._group]
        description = found.result()
        return (
            description.state == ConsumerGroupState.STABLE
            and len(description.members) == members
            and all(m.assignment.topic_partitions for m in description.members)
        )

    def committed(self) -> int:
        """Messages committed by the group, over every partition."""
        request = [ConsumerGroupTopicPartitions(self._group, self._parts)]
        answer = self._admin.list_consumer_group_offsets(request)[self._group]
        return sum(max(tp.offset, 0) for tp in answer.result().topic_partitions)


def _end_offsets(bootstrap: str, topic: str) -> int:
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{topic}"})
    try:
        return sum(
            probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(PARTITIONS)
        )
    finally:
        probe.close()


@contextmanager
def storage_instances(
    bootstrap: str, topic: str, db: PrivateMariaDb, run: Run
) -> Iterator[list["subprocess.Popen[bytes]"]]:
    """``run.instances`` ``monitoring storage`` processes in one group,
    stopped with SIGTERM afterwards (each must exit 0)."""
    env = {
        **os.environ,
        "MONITORING_KAFKA_BOOTSTRAP": bootstrap,
        "MONITORING_KAFKA_TOPIC": topic,
        "MONITORING_KAFKA_GROUP": f"bench-{topic}",
        "MONITORING_DATABASE_URL": db.url,
        "MONITORING_DATABASE_MIGRATE": "false",
        "MONITORING_STORAGE_BATCH": str(run.batch),
        "MONITORING_LOG_LEVEL": "WARNING",
    }
    with ExitStack() as stack:
        processes = []
        for _ in range(run.instances):
            log = stack.enter_context(tempfile.TemporaryFile())
            port = {"MONITORING_STORAGE_PORT": str(free_port())}
            if run.source is not None:
                port["PYTHONPATH"] = str(run.source)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "apps.cli", "storage"],
                    env={**env, **port},
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        try:
            yield processes
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=60)
            for process in processes:
                assert process.returncode == 0, f"storage exited {process.returncode}"


@dataclass
class Sample:
    """The group's progress and everyone's CPU seconds at one moment."""

    at: float
    committed: int
    cpu: dict[str, float]


class Probe:
    """Takes samples of one run: committed offsets and CPU of each party."""

    def __init__(self, group: Group, pids: dict[str, list[int]]) -> None:
        self._group, self._pids = group, pids

    def sample(self) -> Sample:
        busy, total = _machine_cpu()
        cpu = {k: sum(_cpu_of(p) for p in v) for k, v in self._pids.items()}
        cpu["bench (producer, probe)"] = time.process_time()
        cpu["anything else"] = busy - sum(cpu.values())
        cpu["idle"] = total - busy
        return Sample(time.perf_counter(), self._group.committed(), cpu)


def _between(first: Sample, last: Sample) -> tuple[float, int, dict[str, float]]:
    seconds = last.at - first.at
    used = {k: (last.cpu[k] - first.cpu[k]) / seconds for k in first.cpu}
    return seconds, last.committed - first.committed, used


def measure(bootstrap: str, run: Run, results: list[Result]) -> Run:
    """Start the instances, wait for a stable group, produce, time the drain;
    then check that exactly the expected rows were stored."""
    payloads = _payloads(results)
    topic = re.sub(r"[^\w.-]+", "-", f"bench-{run.label}-{int(time.time())}")
    ensure_topic(bootstrap, topic, PARTITIONS)
    group = Group(bootstrap, topic, f"bench-{topic}")
    kafka = _kafka_pid()
    with private_mariadb() as db:
        migrate.upgrade(db.url)
        with storage_instances(bootstrap, topic, db, run) as processes:
            deadline = time.monotonic() + 120
            while not group.stable_with(run.instances):
                assert time.monotonic() < deadline, "the group never became stable"
                time.sleep(0.2)
            server = getattr(db, "_process", None)  # the private mariadbd
            probe = Probe(
                group,
                {
                    "storage": [p.pid for p in processes],
                    "mariadb": [server.pid] if server is not None else [],
                    "kafka": [kafka] if kafka else [],
                },
            )
            producer = threading.Thread(
                target=_produce, args=(bootstrap, topic, payloads)
            )
            samples = [probe.sample()]
            producer.start()
            produced_at = None
            while produced_at is None or samples[-1].committed < len(payloads):
                time.sleep(0.025)
                samples.append(probe.sample())
                if produced_at is None and not producer.is_alive():
                    produced_at = samples[-1].at
            producer.join()
            assert _end_offsets(bootstrap, topic) == len(payloads)
        run.rows = row_counts(db.url)
    run.results = len(payloads)
    run.seconds, _, run.cpu = _between(samples[0], samples[-1])
    steady = [s for s in samples if s.at >= produced_at]
    low = next(s for s in steady if s.committed >= 0.1 * len(payloads))
    high = next(s for s in steady if s.committed >= 0.9 * len(payloads))
    if high.at > low.at:
        run.steady_seconds, run.steady_results, run.steady_cpu = _between(low, high)
    expected = _expected_rows(results)
    stored = {table: run.rows[table] for table in expected}
    assert stored == expected, f"stored {stored}, expected {expected}"
    return run


def machine() -> str:
    return f"{host.cpu()}, Python {platform.python_version()}"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=200_000)
    parser.add_argument("--baseline", type=int, default=3_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument(
        "--instances", default="1,2", help="instances per run, e.g. 1,2,4"
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="also run 1 instance from this older src/ (e.g. git archive HEAD src)",
    )
    parser.add_argument("--before-label", default="before")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    bootstrap = os.environ["MONITORING_TEST_KAFKA_BOOTSTRAP"]
    results, base = _results_for(args.results), _results_for(args.baseline)
    load_before = _load()
    counts = [int(n) for n in args.instances.split(",")]
    plan = [Run(f"{n} x 1 writer", n, args.batch) for n in counts]
    if args.before is not None:
        label = f"{args.before_label}: 1 x 1 writer"
        plan.insert(0, Run(label, 1, args.batch, args.before))
    runs = []
    for run in plan:
        print(f"bench: {run.label}, {len(results)} results ...", flush=True)
        runs.append(measure(bootstrap, run, results))
        print(
            f"bench: {runs[-1].steady_rate:,.0f} results/s steady, "
            f"{runs[-1].rate:,.0f} end to end",
            flush=True,
        )
    print(f"bench: baseline, {len(base)} results one per transaction ...", flush=True)
    baseline = measure(bootstrap, Run("baseline", 1, 1), base)
    report = render(args, runs, baseline, load_before, _load())
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


def _cpu_line(cores: dict[str, float]) -> str:
    return ", ".join(f"{k} {round(v, 2) + 0.0:.2f}" for k, v in cores.items())


def render(
    args: argparse.Namespace,
    runs: list[Run],
    baseline: Run,
    load_before: str,
    load_after: str,
) -> str:
    best = max(runs, key=lambda r: r.steady_rate)
    rows = "\n".join(
        f"| {r.label}, batches of {r.batch} | {r.results:,} | {r.seconds:.1f} "
        f"| {r.rate:,.0f} | **{r.steady_rate:,.0f}** "
        f"| {r.steady_rate / baseline.steady_rate:.0f}x |"
        for r in runs
    )
    cpu = "\n".join(
        f"- {r.label}: {_cpu_line(r.steady_cpu)}" for r in [*runs, baseline]
    )
    stored = best.rows
    verdict = "met" if best.steady_rate >= 20_000 else "NOT met"
    return f"""
## Storage ingest, Kafka -> MariaDB, real service processes ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

Machine: {machine()}; Kafka 4.1.1 (KRaft, one broker) and MariaDB 10.11 on the same
machine, loopback. Each run starts `monitoring storage` processes ("N x 1 writer": N
instances in one consumer group, one writer each; the topic has 4 partitions) against
a fresh private MariaDB, waits until the group is stable, then produces the results
into the empty topic from a thread of the bench. Messages: window statistics (2
windows, so 2 rows, with NaN and +Inf values) and forecasts (10 points), 10 to 1 as
the ETL publishes them, every one distinct, so every write is an insert. Pipeline
per instance: consumer group -> msgspec decode (the JSON Schemas mirrored) of the
next batch in a thread while the current one is written -> one transaction of
batched upserts -> synchronous offset commit. End to end: from the first message
produced until the group has committed the last (ramp-up and the producer on the
same cores included). Steady state: from 10 % to 90 % of the messages committed,
once the producer is done.

| run | results | end to end, s | end to end, results/s | steady state, results/s | vs baseline |
|---|---|---|---|---|---|
{rows}
| baseline: one message per transaction, 1 x 1 writer | {baseline.results:,} | {baseline.seconds:.1f} | {baseline.rate:,.0f} | {baseline.steady_rate:,.0f} | 1x |

Every run stored exactly the rows its results must give ({best.label}: {stored.get("window_stats", 0):,} window-statistics rows, {stored.get("forecasts", 0):,} forecasts, {stored.get("series", 0):,} series).
Target >= 20,000 results/s: **{verdict}** ({best.label}: {best.steady_rate:,.0f} results/s steady, {best.rate:,.0f} end to end).

Cores in use in the steady state (CPU seconds per second, 2.00 = both cores; "anything
else" is other work on the machine):

{cpu}

Load average before / after: {load_before} / {load_after}.
"""


if __name__ == "__main__":
    main()
