"""Benchmark of the storage service: results/s from Kafka into MariaDB.

Usage: ``python bench/storage_ingest.py [--results 200000] [--baseline 4000]``
with ``MONITORING_TEST_KAFKA_BOOTSTRAP`` set (``make services-up``). It fills a
topic with distinct results (3-window statistics and 10-point forecasts, as the
ETL publishes), then drains it with the real storage pipeline (Kafka consumer
group -> decode -> batched idempotent upserts into a private MariaDB -> offset
commit) and, in the same run, with a one-message-per-transaction baseline on a
smaller topic. Results are appended to ``bench/RESULTS.md``.
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import host  # noqa: E402

from adapters.kafka.result_feed import kafka_feed  # noqa: E402
from adapters.kafka.result_publisher import ensure_topic  # noqa: E402
from adapters.sql import migrate  # noqa: E402
from adapters.sql.result_store import sql_store  # noqa: E402
from monitoring_core.services.storage_ingest import StorageIngest  # noqa: E402
from tests.integration.test_storage_service import (  # noqa: E402
    _payloads,
    _produce,
    _results,
)
from tests.support.mariadb import private_mariadb  # noqa: E402
from tests.support.storage import committed_lag  # noqa: E402


class _Telemetry:
    def observe_batch(self, size: int, rejected: int, write_seconds: float) -> None:
        pass

    def observe_store_failure(self) -> None:
        pass


def fill(bootstrap: str, topic: str, count: int) -> int:
    """A topic holding about ``count`` distinct results; returns how many."""
    ensure_topic(bootstrap, topic, 4)
    results = _results(series=max(count // 11, 1), times=10)[:count]
    _produce(bootstrap, topic, _payloads(results))
    return len(results)


def drain(
    bootstrap: str, topic: str, url: str, batch: int, expected: int
) -> tuple[int, float]:
    """Messages stored after the group was joined, and the seconds they took."""
    group = f"bench-{topic}-{batch}"
    with (
        kafka_feed(bootstrap, topic, group, None, f"{topic}.dead-letter") as feed,
        sql_store(url) as store,
    ):
        ingest = StorageIngest(
            feed=feed,
            store=store,
            telemetry=_Telemetry(),
            batch_size=batch,
            poll_seconds=0.5,
        )
        done = 0
        while not feed.rebalances:  # join the group before the clock starts
            done += ingest.step()
        started, before = time.perf_counter(), done
        while done < expected:
            done += ingest.step()
        seconds = time.perf_counter() - started
    assert committed_lag(bootstrap, topic, group) == 0
    return done - before, seconds


def machine() -> str:
    return f"{host.cpu()}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=200_000)
    parser.add_argument("--baseline", type=int, default=4_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    bootstrap = os.environ["MONITORING_TEST_KAFKA_BOOTSTRAP"]
    stamp = int(time.time())
    print("bench: filling topics ...", flush=True)
    n = fill(bootstrap, f"bench-main-{stamp}", args.results)
    m = fill(bootstrap, f"bench-base-{stamp}", args.baseline)
    with private_mariadb() as db:
        migrate.upgrade(db.url)
        print(f"bench: draining {n} results in batches of {args.batch} ...", flush=True)
        n, fast = drain(bootstrap, f"bench-main-{stamp}", db.url, args.batch, n)
        print(f"bench: baseline, {m} results one per transaction ...", flush=True)
        m, slow = drain(bootstrap, f"bench-base-{stamp}", db.url, 1, m)
    report = render(args, n, fast, m, slow)
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


def render(args: argparse.Namespace, n: int, fast: float, m: int, slow: float) -> str:
    rate, base = n / fast, m / slow
    return f"""
## Storage ingest, Kafka -> MariaDB ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

Machine: {machine()}; Kafka 4.1.1 (KRaft, one broker) and MariaDB 10.11 on the same
machine, loopback. Messages: window statistics (3 windows each, 3 rows) and forecasts
(10 points) in the ratio the ETL publishes them, every one distinct, so every write is
a real insert. Pipeline: consumer group -> decode + JSON Schema check -> one
transaction of batched upserts per batch -> synchronous offset commit.

| run | results | seconds | results/s |
|---|---|---|---|
| batches of {args.batch} | {n} | {fast:.1f} | **{rate:,.0f}** |
| baseline: one message per transaction | {m} | {slow:.1f} | {base:,.0f} |

Ratio: **{rate / base:.1f}x** the baseline. Target: >= 20,000 results/s.
"""


if __name__ == "__main__":
    main()
