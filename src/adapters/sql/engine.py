"""Engines for MariaDB/MySQL and SQLite, and the translation of their errors."""

import contextlib
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from monitoring_core.errors import StoreUnavailable

POOL_RECYCLE_SECONDS = 1800
"""Below MariaDB's ``wait_timeout`` and typical proxy idle limits."""
SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str) -> Engine:
    """An engine with pre-ping and recycling; no connection is opened yet.

    MySQL/MariaDB run READ COMMITTED in strict SQL mode (a value that does not
    fit is an error, never silently truncated); SQLite runs in WAL mode with a
    busy timeout so readers and the writer do not block each other.
    """
    options: dict[str, Any] = {"pool_pre_ping": True}
    if sa.make_url(url).get_backend_name() == "mysql":
        options["isolation_level"] = "READ COMMITTED"
    return _create(url, options)


def make_read_engine(url: str) -> Engine:
    """An engine for single-statement reads: no round trip but the statement's.

    No pre-ping: a pooled connection that the server dropped fails its
    statement instead, SQLAlchemy then invalidates the pool, and the reader
    retries once on a new connection (see ``is_disconnect``). On MySQL/MariaDB
    every statement commits by itself (autocommit), so a read neither begins
    nor rolls back a transaction; one statement sees one consistent snapshot.
    Never write through this engine: a batch would not be atomic.
    """
    options: dict[str, Any] = {}
    if sa.make_url(url).get_backend_name() == "mysql":
        options["isolation_level"] = "AUTOCOMMIT"
        options["skip_autocommit_rollback"] = True
    return _create(url, options)


def _create(url: str, options: dict[str, Any]) -> Engine:
    engine = sa.create_engine(url, pool_recycle=POOL_RECYCLE_SECONDS, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "mysql":
        event.listen(engine, "connect", _mysql_strict)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Safe with WAL: a power cut may lose the newest commits, never corrupt.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _mysql_strict(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION sql_mode = 'TRADITIONAL'")
    cursor.close()


def is_disconnect(exc: BaseException) -> bool:
    """True when the statement failed because its connection was dead.

    SQLAlchemy has then invalidated the connection and every older one in the
    pool, so a retry opens a fresh connection. A server that is down refuses
    that connection with another error, which is not a disconnect.
    """
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def describe(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's message, without the (long) statement and parameters."""
    original = getattr(exc, "orig", None)
    cause = original if original is not None else exc
    return f"{type(cause).__name__}: {cause}"


@contextlib.contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn any SQLAlchemy or driver error into StoreUnavailable.

    Raises:
        StoreUnavailable: ``action`` failed; its transaction was rolled back.
    """
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise StoreUnavailable(f"{action} failed: {describe(exc)}") from exc
