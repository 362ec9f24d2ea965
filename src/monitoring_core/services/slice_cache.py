"""Judged slices kept between refreshes: a closed slice never changes once its
samples are in (ADR 0046).

A slice counts as *settled* once it ended ``settle_seconds`` ago: samples that
arrive late (a slow scrape, remote write, a federation hop) still land in a
slice that is younger. Settled slices are kept per *key* (selector, slice
length and kind: what the judgement of a slice depends on) as one contiguous
run ``[start, end)`` per key, every series of the key on the same grid; only
what lies after ``end`` is read again. The cache is bounded by a number of
slices, least recently used keys go first.
"""

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence

import attrs

from monitoring_core.series import SeriesKey
from monitoring_core.slo import Slice, SliceState

DEFAULT_SETTLE_SECONDS = 300
"""How long after its end a slice may still receive samples: Prometheus' default
lookback (5 minutes), well above a scrape interval and timeout."""

DEFAULT_CAPACITY = 500_000
"""Slices kept at most (about 200 bytes each)."""


@attrs.frozen(kw_only=True)
class Settled:
    """The settled slices of one key.

    Attributes:
        start, end: the run kept, whole slices apart (``start == end``: none).
        slice_seconds: Δ.
        series: each series' slices of ``[start, end)``, oldest first; a series
            is kept while it has a measured slice in the run.
        span: the longest range a caller asked for: older slices are dropped.
    """

    start: float
    end: float
    slice_seconds: int
    series: Mapping[SeriesKey, Sequence[Slice]]
    span: float

    @property
    def size(self) -> int:
        """Slices held."""
        return sum(len(s) for s in self.series.values())

    def between(self, start: float, end: float) -> dict[SeriesKey, Sequence[Slice]]:
        """Each series' slices of ``[start, end)`` (within the run)."""
        lo = round((start - self.start) / self.slice_seconds)
        hi = round((end - self.start) / self.slice_seconds)
        return {key: slices[lo:hi] for key, slices in self.series.items()}


def measured(slices: Sequence[Slice]) -> bool:
    """Whether any slice has a sample."""
    return any(s.state is not SliceState.UNMEASURED for s in slices)


class SliceCache:
    """Settled slices by key, least recently used keys evicted first.

    Thread-safe: the gRPC server judges on several threads.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, Settled] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Settled | None:
        """The settled run of a key, None when none is kept."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: Settled) -> None:
        """Keep a key's run, replacing the one before, unless it is older.

        A run that ends before the kept one (a caller reading the past) does not
        replace it.
        """
        kept = _trimmed(entry)
        size = kept.size
        with self._lock:
            old = self._entries.get(key)
            if old is not None:
                if old.end > kept.end:
                    return
                self._size -= old.size
                del self._entries[key]
            if size > self._capacity:
                return
            self._entries[key] = kept
            self._size += size
            while self._size > self._capacity:
                _, evicted = self._entries.popitem(last=False)
                self._size -= evicted.size

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    @property
    def size(self) -> int:
        """Slices held."""
        with self._lock:
            return self._size


def _trimmed(entry: Settled) -> Settled:
    """The run without slices older than its span, and without silent series."""
    step = entry.slice_seconds
    start = max(entry.start, entry.end - -(-entry.span // step) * step)
    lo = round((start - entry.start) / step)
    series = {}
    for key, slices in entry.series.items():
        kept = slices[lo:]
        if measured(kept):
            series[key] = kept
    return attrs.evolve(entry, start=start, series=series)
