"""Shards: how the series are split between ETL workers (ADR 0055).

A series belongs to one of a fixed number of shards, by a stable hash of its
metric name and the value of one label (``instance`` by default). Keeping a
metric's series of one instance together lets a worker's queries stay as
narrow as a single worker's: its share of a metric is selected by that label.
"""

import hashlib
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

import attrs

from monitoring_core.runs import EtlRun, Step
from monitoring_core.series import SeriesKey

DEFAULT_SHARDS = 64
DEFAULT_SHARD_LABEL = "instance"
ALL_SHARDS_WORKER = "in-process"
"""The worker name of an ETL that is not sharded (``monitoring run``)."""


@attrs.frozen
class Sharding:
    """How many shards there are and which label, beside the name, picks one.

    Attributes:
        count: the number of shards (1 to 10,000).
        label: the label whose value, with the metric name, is hashed.
    """

    count: int = DEFAULT_SHARDS
    label: str = DEFAULT_SHARD_LABEL

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.count <= 10_000:
            raise ValueError(f"shard count must be 1 to 10000, not {self.count}")

    def shard_of(self, key: SeriesKey) -> int:
        """The shard of a series: stable across processes, hosts and versions."""
        value = next((v for k, v in key.labels if k == self.label), "")
        text = f"{key.name}\0{value}".encode()
        digest = hashlib.blake2b(text, digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count

    @property
    def every_shard(self) -> frozenset[int]:
        return frozenset(range(self.count))


def still_held(
    shards: Iterable[int],
    owned: Collection[int],
    claims: Collection[int],
    claimed: bool,
) -> frozenset[int]:
    """Those of ``shards`` a worker may still publish: owned and, for a
    claimed cycle, still claimed (a shard taken away gave its claim back)."""
    return frozenset(s for s in shards if s in owned and (not claimed or s in claims))


def compact(shards: Iterable[int]) -> str:
    """Shards as ranges, e.g. ``0-3,7,9-10``; ``-`` for none."""
    ordered = sorted(set(shards))
    if not ordered:
        return "-"
    parts: list[str] = []
    start = prev = ordered[0]
    for s in [*ordered[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ",".join(parts)


@attrs.frozen(kw_only=True)
class ShardStatus:
    """What the ETL runs say of one shard.

    Attributes:
        shard: the shard number.
        worker: the worker whose latest cycle covered it (its owner as far as
            the records tell); None when no recorded cycle covered it.
        last_analysed_at: when the latest cycle that covered it and
            finished without failing ended; None when none did.
        last_run_id: the run id of the latest cycle that covered it.
    """

    shard: int
    worker: str | None
    last_analysed_at: datetime | None
    last_run_id: str | None


def shard_statuses(runs: Sequence[EtlRun], count: int) -> list[ShardStatus]:
    """Every shard's owner and last analysis, from ETL run records.

    Only analysis cycles count (those with a window statistics step); the
    records of the metadata thread's runs and of aborted cycles are ignored.
    """
    latest: dict[int, EtlRun] = {}
    analysed: dict[int, datetime] = {}
    cycles = [r for r in runs if any(t.step is Step.WINDOW_STATS for t in r.steps)]
    for run in sorted(cycles, key=lambda r: r.finished_at):
        for shard in run.shards or ():
            if not 0 <= shard < count:
                continue
            latest[shard] = run
            if run.ok:
                analysed[shard] = run.finished_at
    return [
        ShardStatus(
            shard=s,
            worker=latest[s].worker if s in latest else None,
            last_analysed_at=analysed.get(s),
            last_run_id=latest[s].run_id if s in latest else None,
        )
        for s in range(count)
    ]
