"""Deleting old history in short transactions: select keys, delete them, commit."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def _matching(key: list[sa.Column[Any]], keys: list[tuple[Any, ...]]) -> Any:
    if len(key) == 1:
        return key[0].in_([k[0] for k in keys])
    return sa.tuple_(*key).in_(keys)


def prune_table(
    engine: Engine, table: sa.Table, time: sa.Column[int], cutoff: int, size: int
) -> int:
    """Delete the rows of ``table`` whose ``time`` is before ``cutoff``, ``size``
    rows per transaction, oldest first; return how many went.

    Each batch locks only the rows it deletes, found by primary key, so writers
    are never held up for long.
    """
    key = list(table.primary_key)
    oldest = sa.select(*key).where(time < cutoff).order_by(time).limit(size)
    deleted = 0
    while True:
        with engine.begin() as connection:
            keys = [tuple(k) for k in connection.execute(oldest)]
            if keys:
                gone = connection.execute(sa.delete(table).where(_matching(key, keys)))
                deleted += gone.rowcount
        if len(keys) < size:
            return deleted
