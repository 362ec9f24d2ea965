"""Batched upserts: ON DUPLICATE KEY UPDATE on MySQL/MariaDB, ON CONFLICT on SQLite."""

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import Connection

from adapters.sql import tables
from adapters.sql.batch import Batch
from adapters.sql.mysql_rows import execute_all

Pick = Callable[[Any, Any], Any]


def write_batch(connection: Connection, batch: Batch) -> None:
    """Upsert every row of ``batch``: series first, then each history table."""
    dialect = connection.dialect.name
    groups = [
        (tables.series, batch.series(kind_known=True), False),
        (tables.series, batch.series(kind_known=False), True),
        *((table, rows, False) for table, rows in batch.history()),
    ]
    work = [
        (upsert_statement(dialect, t, keep), t, rows)
        for t, rows, keep in groups
        if rows
    ]
    if dialect == "mysql":
        execute_all(connection, work)
    else:  # sqlite3 runs executemany in C
        for statement, _, rows in work:
            connection.execute(statement, rows)


def _changes(
    table: sa.Table, new: Any, least: Pick, greatest: Pick, keep_kind: bool
) -> dict[str, Any]:
    if table is not tables.series:
        return {c.name: new[c.name] for c in table.columns if not c.primary_key}
    old = tables.series.c
    changes = {
        "name": new.name,
        "labels": new.labels,
        "first_seen": least(old.first_seen, new.first_seen),
        "last_seen": greatest(old.last_seen, new.last_seen),
    }
    return changes if keep_kind else {**changes, "kind": new.kind}


@functools.cache
def upsert_statement(dialect: str, table: sa.Table, keep_kind: bool) -> sa.Insert:
    """Insert-or-update on the primary key; ``keep_kind`` keeps a series' kind."""
    if dialect == "mysql":
        my = mysql.insert(table)
        changes = _changes(
            table, my.inserted, sa.func.least, sa.func.greatest, keep_kind
        )
        return my.on_duplicate_key_update(changes)
    if dialect == "sqlite":
        # SQLite's two-argument min() and max() are scalar functions.
        lite = sqlite.insert(table)
        changes = _changes(table, lite.excluded, sa.func.min, sa.func.max, keep_kind)
        return lite.on_conflict_do_update(
            index_elements=list(table.primary_key), set_=changes
        )
    raise ValueError(f"no upsert for the {dialect} dialect (MySQL or SQLite only)")
