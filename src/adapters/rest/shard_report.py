"""Which worker owns each shard and when it was last analysed, from stored runs.

The runs come through ``ResultQueries.etl_runs`` (newest first): a first read
of ``FIRST_READ`` runs covers a day of a few workers at the default 5-minute
cycle; while the oldest run read is still inside the span, the next read is
sized by the rate of runs seen so far (a quarter more than the span needs at
that rate, at least twice the last read), up to ``MOST_RUNS``. Beyond that the
report says it is incomplete.
"""

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from monitoring_core.ports import ResultQueries
from monitoring_core.runs import EtlRun
from monitoring_core.sharding import DEFAULT_SHARDS, ShardStatus, shard_statuses

FIRST_READ = 500
MOST_RUNS = 32_000
MOST_SHARDS = 10_000
"""As many shards as ``Sharding`` allows."""


@attrs.frozen(kw_only=True)
class ShardReport:
    """Every shard's status over the runs that started since ``since``.

    Attributes:
        since: the start of the span.
        statuses: one per shard, by shard number.
        count_from: where the shard count came from: ``parameter`` (asked
            for), ``runs`` (the largest shard a run covered, plus one) or
            ``default`` (no run in the span recorded its shards: 64).
        runs_read: the runs of the span that were read.
        complete: False when the span held more than ``MOST_RUNS`` runs and
            the oldest were not read.
    """

    since: datetime
    statuses: tuple[ShardStatus, ...]
    count_from: str
    runs_read: int
    complete: bool


def _next_read(found: Sequence[EtlRun], now: datetime, since: datetime) -> int:
    """The span's runs at the rate seen so far, and a quarter more."""
    seen = (now - found[-1].started_at).total_seconds()
    wanted = (now - since).total_seconds()
    if seen <= 0:
        return len(found) * 4
    return max(len(found) * 2, math.ceil(len(found) * wanted / seen * 1.25))


def _runs_since(
    queries: ResultQueries, now: datetime, since: datetime
) -> tuple[list[EtlRun], bool]:
    limit = FIRST_READ
    while True:
        found = queries.etl_runs(limit)
        inside = [r for r in found if r.started_at >= since]
        if len(inside) < len(found) or len(found) < limit:
            return inside, True
        if limit >= MOST_RUNS:
            return inside, False
        limit = min(_next_read(found, now, since), MOST_RUNS)


def _count(runs: Sequence[EtlRun], asked: int | None) -> tuple[int, str]:
    if asked is not None:
        return asked, "parameter"
    largest = max((max(r.shards) for r in runs if r.shards), default=None)
    if largest is None:
        return DEFAULT_SHARDS, "default"
    return largest + 1, "runs"


def shard_report(
    queries: ResultQueries, now: datetime, span: timedelta, count: int | None
) -> ShardReport:
    """The status of every shard over the runs that started in ``span`` before
    ``now``; ``count`` shards if given, else as the runs tell (see ``ShardReport``).

    Raises:
        StoreUnavailable: the store did not answer.
    """
    since = now - span
    runs, complete = _runs_since(queries, now, since)
    shard_count, count_from = _count(runs, count)
    return ShardReport(
        since=since,
        statuses=tuple(shard_statuses(runs, shard_count)),
        count_from=count_from,
        runs_read=len(runs),
        complete=complete,
    )
