"""The one bounded cache of the adapters (``BoundedCache``): oldest entries go first.

Adapters remember parsed times, series keys, quoted texts and short-lived read
answers. Each used to bound its dictionary by hand; this is the one helper they
share. It lives beside the adapter packages, not in one of them, so that using
it makes no adapter depend on another.
"""

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(OrderedDict[K, V]):
    """A mapping of at most ``limit`` entries; ``keep`` drops the oldest first.

    Reads are plain dictionary reads (``get``, ``in``, ``[]``) at C speed, so
    the hot paths that look up far more often than they store pay nothing for
    the bound. A read does not renew an entry: the oldest *stored* goes first.
    Threads may share one without a lock (each may then hold one entry past
    the limit for a moment); a caller that needs the exact bound locks ``keep``.

    Args:
        limit: entries kept at most; at least 1.

    Raises:
        ValueError: ``limit`` is below 1.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a bounded cache needs a limit of 1 or more: {limit}")
        super().__init__()
        self.limit = limit

    def keep(self, key: K, value: V) -> V:
        """Store ``value`` under ``key`` as the newest entry and return it.

        Args:
            key: the entry's key; an entry already under it is replaced.
            value: what to remember.

        Returns:
            ``value``, so that a miss can be written ``return cache.keep(k, v)``.
        """
        self.pop(key, None)  # re-stored last: the oldest stay first
        while len(self) >= self.limit:
            try:
                self.popitem(last=False)
            except KeyError:  # another thread emptied it meanwhile
                break
        self[key] = value
        return value
