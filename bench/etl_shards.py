"""Benchmark of sharded ETL workers: 1, 2 and 4 ``monitoring etl`` on 40,000 series.

Usage: ``python bench/etl_shards.py [--series 40000] [--workers 1,2,4] [--cycle 90]``.
It backfills a private Prometheus with the series of ``bench/etl_cycle.py`` (100
metrics x 400 ``instance`` values, so the 64 shards are about even), then for
each worker count starts that many real ``monitoring etl`` processes in one group
(issue 16, ADR 0055) publishing to a fresh topic of the shared Kafka, and waits
for the first cycle window in which their shares are balanced and every shard is
analysed. From that window it reports each worker's cycle (its ``etl_run``
record), the slowest worker's Prometheus floor in the same run (its queries,
rebuilt by running the same cycle on a recording connection, then replayed
unparsed: alone, and together with the other workers' queries as they ran),
each worker's peak RSS (VmHWM) and, as a check, that every series was analysed
exactly once in the window. Results are appended to ``bench/RESULTS.md``.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from confluent_kafka import Consumer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from etl_cycle import floor_seconds, machine, write_openmetrics  # noqa: E402

from tests.support.processes import Service, start_service, stop_all  # noqa: E402
from tests.support.prometheus import backfill_file, private_prometheus  # noqa: E402

KAFKA = os.environ.get("MONITORING_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
SHARDS = 64
Query = tuple[str, dict[str, str]]


def worker_env(args: argparse.Namespace, url: str, topic: str) -> dict[str, str]:
    """The settings every worker of one run shares (group and shard topic are
    the defaults derived from the topic)."""
    forecast = f'{{__name__=~"bench_metric_[0-{args.forecast_metrics - 1}]"}}'
    return {
        "MONITORING_PROMETHEUS_URL": url,
        "MONITORING_KAFKA_BOOTSTRAP": KAFKA,
        "MONITORING_KAFKA_TOPIC": topic,
        "MONITORING_SERIES_SELECTORS": '{__name__=~"bench_metric_.+"}',
        "MONITORING_FORECAST_SELECTORS": forecast,
        "MONITORING_WINDOWS": "1h,3h,12h",
        "MONITORING_CYCLE_SECONDS": str(args.cycle),
        # Metadata: the full run at start-up and one per change of shards;
        # no hourly retries.
        "MONITORING_METADATA_RETRY_SECONDS": "0",
        "MONITORING_ETL_METRICS_PORT": "0",
        "MONITORING_LOG_LEVEL": "INFO",
    }


class Records:
    """A results topic read as it fills: ``etl_run`` records parsed, window
    statistics kept as bytes (parsed once the workers stopped, to leave the
    CPU to them while they run)."""

    def __init__(self, topic: str) -> None:
        self.runs: list[dict[str, Any]] = []
        self.stats: list[bytes] = []
        self._consumer = Consumer(
            {
                "bootstrap.servers": KAFKA,
                "group.id": f"bench-reader-{topic}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 1000,
            }
        )
        self._consumer.subscribe([topic])

    def poll(self, seconds: float) -> list[dict[str, Any]]:
        """Read for ``seconds``; the ``etl_run`` records that arrived."""
        new = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self._consumer.consume(10_000, 0.5):
                value = message.value() if message.error() is None else None
                if not value:
                    continue
                if b"etl_run" in value:
                    new.append(json.loads(value)["data"])
                elif b"window_stats" in value:
                    self.stats.append(value)
        self.runs += new
        return new

    def close(self) -> None:
        self._consumer.close()


def drop_topics(*names: str) -> None:
    """Leave the shared Kafka as it was (the readers' groups expire alone)."""
    admin = AdminClient({"bootstrap.servers": KAFKA})
    for done in admin.delete_topics(list(names), operation_timeout=10).values():
        try:
            done.result(timeout=15)
        except Exception as exc:  # already gone or never made: say so, go on
            print(f"bench: could not drop a topic: {exc}", flush=True)


def analysis(run: dict[str, Any]) -> bool:
    """An analysis cycle's record (the metadata thread's have no window step)."""
    return any(s["step"] == "window_stats" for s in run["steps"])


def window_of(iso: str, cycle: int) -> int:
    return int(datetime.fromisoformat(iso).timestamp()) // cycle


def complete_window(
    runs: list[dict[str, Any]], workers: list[str], cycle: int, after: int
) -> int | None:
    """The first window after ``after``, and after the workers' metadata
    runs, in which each worker ran one analysis cycle, their shares
    balanced, disjoint and covering every shard."""
    # Steady state: after the metadata runs of start-up and of newly given
    # shards (each worker makes at least one).
    metadata = [r for r in runs if not analysis(r)]
    if {r["worker"] for r in metadata} != set(workers):
        return None
    after = max([after] + [window_of(r["finished_at"], cycle) for r in metadata])
    by_window: dict[int, list[dict[str, Any]]] = {}
    for run in filter(analysis, runs):
        by_window.setdefault(window_of(run["started_at"], cycle), []).append(run)
    for window, group in sorted(by_window.items()):
        shares = [r["shards"] or [] for r in group]
        sizes = sorted(map(len, shares))
        if (
            window > after
            and sorted(r["worker"] for r in group) == sorted(workers)
            and all(r["ok"] for r in group)
            and sorted(s for share in shares for s in share) == list(range(SHARDS))
            and sizes[-1] - sizes[0] <= 1
        ):
            return window
    return None


def peak_rss_mib(pid: int) -> float:
    """VmHWM of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


@contextmanager
def workers_running(
    count: int, env: dict[str, str], folder: Path, cycle: int
) -> Iterator[list[Service]]:
    """``count`` workers started together just after a window boundary, so
    their cycles fall in the same windows and overlap; stopped at exit."""
    time.sleep(cycle - time.time() % cycle + 0.5)
    services = [
        start_service(
            f"w{i}",
            ["etl"],
            {
                **env,
                "MONITORING_ETL_INSTANCE_ID": f"w{i}",
                "MONITORING_ETL_STATE_PATH": str(folder / f"w{i}" / "etl.sqlite"),
            },
            folder,
        )
        for i in range(1, count + 1)
    ]
    try:
        yield services
    finally:
        stop_all(services, within=30)


def wait_for_window(
    records: Records, services: list[Service], cycle: int, after: int, limit: float
) -> int:
    """Poll the topic, print each cycle as it ends, until a complete window."""
    names = [s.name for s in services]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for run in records.poll(2):
            kind = "cycle" if analysis(run) else "metadata run"
            print(
                f"bench:   {run['worker']} {kind} of window "
                f"{window_of(run['started_at'], cycle)}: {run['seconds']:.1f} s, "
                f"{run['series_count']} series, {len(run['shards'] or [])} shards, "
                f"ok {run['ok']}",
                flush=True,
            )
        window = complete_window(records.runs, names, cycle, after)
        if window is not None:
            return window
        dead = [s.tail() for s in services if not s.alive()]
        if dead:
            raise RuntimeError("a worker ended:\n" + "\n".join(dead))
    raise RuntimeError(f"no complete, balanced window within {limit:.0f} s")


def coverage(stats: list[bytes], window: int, cycle: int) -> dict[str, int]:
    """How many series the window's statistics cover, and how many twice."""
    counts = Counter(
        m["series"]["id"]
        for m in map(json.loads, stats)
        if m["type"] == "window_stats" and window_of(m["data"]["at"], cycle) == window
    )
    return {
        "series": len(counts),
        "twice": sum(1 for n in counts.values() if n > 1),
        "messages": sum(counts.values()),
    }


def worker_queries(
    env: dict[str, str], worker: str, shards: list[int], started_at: str
) -> list[Query]:
    """The queries a worker's cycle sent: the same cycle, settings and shards,
    at the same instant, on a recording connection with a no-op forecaster."""
    from adapters.forecasting.metadata_analyzer import SktimeMetadataAnalyzer
    from adapters.in_memory.clock import FixedClock
    from adapters.in_memory.result_publisher import InMemoryResultPublisher
    from adapters.in_memory.shard_lease import InMemoryShardGroup
    from adapters.in_memory.telemetry import InMemoryEtlTelemetry
    from apps.etl.config import load_etl_config
    from apps.etl.containers import EtlContainer
    from monitoring_core.services.etl_cycle import EtlCycle
    from monitoring_core.services.metadata_job import MetadataJob

    config = load_etl_config({**env, "MONITORING_ETL_INSTANCE_ID": worker})
    container = EtlContainer(config=config)
    http = container.http()
    http.recorded = []
    source = container.source()
    lease = InMemoryShardGroup(config.sharding).join(worker)
    lease.revoke(config.sharding.every_shard - set(shards))
    EtlCycle(
        source=source,
        publisher=InMemoryResultPublisher(capacity=10_000_000, retain=False),
        forecaster=NoForecasts(),
        metadata=MetadataJob(source, SktimeMetadataAnalyzer(), config.settings),
        telemetry=InMemoryEtlTelemetry(),
        clock=FixedClock(datetime.fromisoformat(started_at)),
        settings=config.settings,
        lease=lease,
        sharding=config.sharding,
        window_seconds=config.cycle_seconds,
    ).run()
    return list(http.recorded)


class NoForecasts:
    """The forecast step's queries without its compute."""

    def forecast(self, *args: Any) -> list[Any]:
        return []


def floors_together(url: str, queries: dict[str, list[Query]]) -> dict[str, float]:
    """Each worker's queries replayed at the same time, one thread each."""
    took: dict[str, float] = {}

    def replay(worker: str) -> None:
        took[worker] = floor_seconds(url, queries[worker])

    threads = [threading.Thread(target=replay, args=(w,)) for w in queries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return took


def measure(
    args: argparse.Namespace, url: str, count: int, folder: Path
) -> dict[str, Any]:
    """One worker count: start, wait for a complete window, stop, floors."""
    topic = f"bench-shards-{count}w-{uuid.uuid4().hex[:8]}"
    env = worker_env(args, url, topic)
    records = Records(topic)
    print(f"bench: {count} worker(s) on topic {topic} ...", flush=True)
    with workers_running(count, env, folder / topic, args.cycle) as services:
        after = int(time.time()) // args.cycle
        window = wait_for_window(records, services, args.cycle, after, 8 * args.cycle)
        rss = {s.name: peak_rss_mib(s.process.pid) for s in services}
        load = os.getloadavg()
    records.poll(3)  # what the stopped workers flushed last
    records.close()
    drop_topics(topic, f"{topic}.etl-shards")
    runs = [
        r
        for r in filter(analysis, records.runs)
        if window_of(r["started_at"], args.cycle) == window
    ]
    slowest = max(runs, key=lambda r: r["seconds"])
    print(f"bench: window {window} complete; rebuilding the queries ...", flush=True)
    queries = {
        r["worker"]: worker_queries(env, r["worker"], r["shards"], r["started_at"])
        for r in runs
    }
    print("bench: replaying the slowest worker's queries for the floor ...", flush=True)
    alone = min(floor_seconds(url, queries[slowest["worker"]]) for _ in range(2))
    together = floors_together(url, queries) if count > 1 else {}
    return {
        "workers": count,
        "window": window,
        "runs": runs,
        "slowest": slowest,
        "queries": len(queries[slowest["worker"]]),
        "floor_alone": alone,
        "floor_together": together.get(slowest["worker"], alone),
        "rss": rss,
        "load": load,
        "coverage": coverage(records.stats, window, args.cycle),
        "metadata_runs": [r for r in records.runs if not analysis(r)],
    }


def main() -> None:
    # SIGTERM ends the run through the same clean-up as an error does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=40_000)
    parser.add_argument("--names", type=int, default=100)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--cycle", type=int, default=90, help="cycle seconds")
    parser.add_argument(
        "--forecast-metrics",
        type=int,
        default=10,
        help="metrics forecast (of --names), 1 to 10",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    begun = time.monotonic()
    # The 12 h of history end an hour ahead: every window is full all along.
    end = (int(time.time()) // 60 + 60) * 60
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        work = Path(tmp)
        print(f"bench: writing {args.series} series x 12 h at 60s ...", flush=True)
        write_openmetrics(work / "data.om", args.series, args.names, 12, 60, end)
        print(f"bench: backfilling ({time.monotonic() - begun:.0f} s) ...", flush=True)
        backfill_file(work / "data.om", work / "data")
        (work / "data.om").unlink()
        with private_prometheus(work / "data", timeout=300) as url:
            print(f"bench: Prometheus at {url}; warming it up ...", flush=True)
            everything = 'count(count_over_time({__name__=~"bench_metric_.+"}[12h]))'
            floor_seconds(url, [("query", {"query": everything})])
            results = [
                measure(args, url, int(n), work) for n in args.workers.split(",")
            ]
    report = render(args, results, time.monotonic() - begun)
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


def render(args: argparse.Namespace, results: list[dict[str, Any]], wall: float) -> str:
    rows, checks, steps = [], [], []
    for r in results:
        slow, runs = r["slowest"], r["runs"]
        series = sorted(x["series_count"] for x in runs)
        shards = sorted(len(x["shards"]) for x in runs)
        rss = sorted(r["rss"].values())
        rows.append(
            f"| {r['workers']} | {series[0]:,}-{series[-1]:,} | "
            f"{shards[0]}-{shards[-1]} | **{slow['seconds']:.1f} s** "
            f"({slow['worker']}) | {r['floor_alone']:.1f} s | "
            f"{r['floor_together']:.1f} s | "
            f"**{slow['seconds'] / r['floor_alone']:.2f}x** | "
            f"{slow['seconds'] / r['floor_together']:.2f}x | "
            f"{slow['series_count'] / slow['seconds']:.0f} | "
            f"{sum(series) / slow['seconds']:.0f} | "
            f"{rss[0]:.0f}-{rss[-1]:.0f} MiB | "
            f"{' '.join(f'{x:.1f}' for x in r['load'])} |"
        )
        cov = r["coverage"]
        meta = max((m["seconds"] for m in r["metadata_runs"]), default=0.0)
        checks.append(
            f"| {r['workers']} | {sum(series):,} | {cov['series']:,} | "
            f"{cov['messages']:,} | {cov['twice']} | {args.series - cov['series']} | "
            f"{meta:.1f} s |"
        )
        timing = {s["step"]: s["seconds"] for s in slow["steps"]}
        steps.append(
            f"| {r['workers']} | "
            + " | ".join(
                f"{timing.get(k, 0):.2f}"
                for k in ("discovery", "window_stats", "forecast", "publish")
            )
            + f" | {r['queries']} |"
        )
    return f"""
## Sharded ETL, {args.workers} workers on {args.series} series x 12 h ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

Machine: {machine()}. Everything on this one machine: the workers, the private
Prometheus, the shared Kafka (and whatever other sessions ran meanwhile; load
averages are in the table). `bench/etl_shards.py --workers {args.workers} --cycle {args.cycle}`:
{args.series} gauges in {args.names} metrics x {args.series // args.names} `instance` values,
one sample every 60 s for 12 h, backfilled with promtool (the data of `bench/etl_cycle.py`).
Real `monitoring etl` processes in one group, 64 shards, defaults otherwise
(batches of 50 series, 2 queries in flight, 4 result partitions); cycle
{args.cycle} s, window statistics 1h, 3h, 12h of every series, 10-minute forecasts
of {args.forecast_metrics} of the {args.names} metrics
({args.forecast_metrics * args.series // args.names} series, `MONITORING_FORECAST_SELECTORS`).
Measured: the first cycle window in which the workers' shares were balanced and
covered every shard. Floor: the slowest worker's queries (rebuilt by the same
cycle at the same instant on a recording connection), replayed unparsed and
sequentially, alone (best of 2) and at the same time as the other workers' queries.
Run wall time {wall / 60:.0f} min.

| workers | series per worker | shards per worker | slowest worker's cycle | its floor alone | its floor, all workers' queries at once | cycle / floor alone | cycle / floor at once | series/s, slowest worker | series/s, all workers | peak RSS per worker | load average |
|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Steps of the slowest worker's cycle (seconds) and its queries:

| workers | discovery | window_stats | forecast | publish | queries |
|---|---|---|---|---|---|
{chr(10).join(steps)}

Correctness in the measured window (window statistics read back from the topic):

| workers | series in the records | series analysed | window_stats messages | analysed twice | missing | metadata runs, longest (all ended before the window) |
|---|---|---|---|---|---|---|
{chr(10).join(checks)}
"""


if __name__ == "__main__":
    main()
