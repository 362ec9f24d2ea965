"""Shard leases in memory: one process's workers sharing shards (ADR 0055).

``InMemoryShardGroup`` behaves as the Kafka group does for the ETL: members
join and leave, shards are spread over the members, claims are kept per shard,
and a revocation waits for a publication under way and hands back the claims
whose results were not published. ``monitoring run`` uses a group of one
member that owns every shard.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from monitoring_core.sharding import ALL_SHARDS_WORKER, Sharding, still_held

NO_WINDOW = -1


class InMemoryShardGroup:
    """Shards spread over members by ranges, as evenly as possible."""

    def __init__(self, sharding: Sharding) -> None:
        self.sharding = sharding
        self._lock = threading.Lock()
        self._members: dict[str, InMemoryShardLease] = {}
        self.claimed: dict[int, int] = {}  # shard -> last window claimed
        self.finished_at: dict[int, datetime] = {}

    def join(self, worker: str) -> "InMemoryShardLease":
        lease = InMemoryShardLease(self, worker)
        with self._lock:
            self._members[worker] = lease
            self._rebalance()
        return lease

    def leave(self, worker: str) -> None:
        with self._lock:
            lease = self._members.pop(worker, None)
            if lease is not None:
                lease.revoke(lease.owned())
            self._rebalance()

    def _rebalance(self) -> None:
        workers = sorted(self._members)
        wanted: dict[str, set[int]] = {w: set() for w in workers}
        for shard in range(self.sharding.count):
            if workers:
                wanted[workers[shard * len(workers) // self.sharding.count]].add(shard)
        for w in workers:  # revoke first: a shard never has two owners
            lease = self._members[w]
            lease.revoke(lease.owned() - wanted[w])
        for w in workers:
            self._members[w].assign(wanted[w])


class InMemoryShardLease:
    """One member of an ``InMemoryShardGroup``."""

    def __init__(self, group: InMemoryShardGroup, worker: str) -> None:
        self._group = group
        self._worker = worker
        self._lock = threading.Lock()
        self._owned: set[int] = set()
        self._claims: dict[int, int] = {}  # shard -> window claimed before ours

    @property
    def worker(self) -> str:
        return self._worker

    def owned(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._owned)

    def claim(self, window: int) -> frozenset[int]:
        with self._lock:
            got = set()
            for shard in sorted(self._owned):
                before = self._group.claimed.get(shard, NO_WINDOW)
                if before < window:
                    self._group.claimed[shard] = window
                    self._claims[shard] = before
                    got.add(shard)
            return frozenset(got)

    @contextmanager
    def publishing(
        self, shards: frozenset[int], claimed: bool = True
    ) -> Iterator[frozenset[int]]:
        with self._lock:
            yield still_held(shards, self._owned, self._claims.keys(), claimed)

    def finished(self, window: int, shards: frozenset[int], at: datetime) -> None:
        for shard in shards:
            if self._claims.pop(shard, None) is not None or shard in self._owned:
                self._group.finished_at[shard] = at

    def assign(self, shards: set[int]) -> None:
        with self._lock:
            self._owned |= shards

    def revoke(self, shards: frozenset[int] | set[int]) -> None:
        """Take shards away (waits for a publication under way); claims not
        yet finished are handed back."""
        with self._lock:
            for shard in shards:
                if shard in self._claims:
                    self._group.claimed[shard] = self._claims.pop(shard)
            self._owned -= set(shards)


def every_shard(
    sharding: Sharding, worker: str = ALL_SHARDS_WORKER
) -> InMemoryShardLease:
    """The lease of a single worker that owns every shard (``monitoring run``)."""
    return InMemoryShardGroup(sharding).join(worker)
