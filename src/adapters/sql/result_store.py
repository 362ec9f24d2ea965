"""Results stored in MariaDB/MySQL or SQLite through SQLAlchemy Core."""

import contextlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from adapters.sql import queries, records, tables
from adapters.sql.batch import Batch
from adapters.sql.engine import (
    is_disconnect,
    make_engine,
    make_read_engine,
    translated,
)
from adapters.sql.prune import prune_table
from adapters.sql.upserts import write_batch
from adapters.sql.values import to_ms
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import Result, ResultQueries, ResultStore
from monitoring_core.runs import EtlRun
from monitoring_core.series import SeriesKey, SeriesRecord
from monitoring_core.windows import SeriesWindowStats

_Row = Row[tuple[object, ...]]
_ID = queries.SERIES_ID


class SqlResultStore(ResultStore, ResultQueries):
    """Results in the tables of ``adapters.sql.tables``, one transaction per write.

    Every query is one statement, retried once when its pooled connection
    turns out to be dead (the server restarted or dropped it).

    Args:
        engine: from ``make_engine``; the schema must be migrated first
            (``adapters.sql.migrate.upgrade``).
        reader: where queries run, from ``make_read_engine`` (``engine`` if
            None); its pool is separate from the writes'.
    """

    def __init__(self, engine: Engine, reader: Engine | None = None) -> None:
        self._engine = engine
        self._reader = engine if reader is None else reader

    def write(self, results: Sequence[Result]) -> None:
        """Upsert every row of the batch in one transaction; see ``ResultStore``."""
        batch = Batch(results)
        action = f"writing {len(results)} results"
        with translated(action), self._engine.begin() as connection:
            write_batch(connection, batch)

    def prune(self, older_than: datetime, batch_size: int) -> int:
        """Delete old history, ``batch_size`` rows per transaction; series stay."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        cutoff = to_ms(older_than)
        with translated("pruning"):
            return sum(
                prune_table(self._engine, table, time, cutoff, batch_size)
                for table, time in tables.HISTORY.items()
            )

    def _rows(
        self, what: str, statement: sa.Executable, bound: Mapping[str, object]
    ) -> Sequence[_Row]:
        """Every row of one read-only statement with its ``bound`` parameters.

        Raises:
            StoreUnavailable: the statement failed, also on a second connection
                when the first was dead.
        """
        with translated(f"reading {what}"):
            try:
                return self._fetch(statement, bound)
            except sa.exc.DBAPIError as exc:
                if not is_disconnect(exc):
                    raise
                return self._fetch(statement, bound)

    def _fetch(
        self, statement: sa.Executable, bound: Mapping[str, object]
    ) -> Sequence[_Row]:
        with self._reader.connect() as connection:
            return connection.execute(statement, bound).all()

    def get_series(self, series_id: str) -> SeriesRecord | None:
        """See ``ResultQueries``."""
        rows = self._rows("a series", queries.SERIES_BY_ID, {_ID: series_id})
        return records.row_to_series(rows[0]) if rows else None

    def list_series(
        self, name: str | None, after_id: str | None, limit: int
    ) -> list[SeriesRecord]:
        """See ``ResultQueries``; served by the primary key or ``(name, id)``."""
        query = queries.SERIES_PAGES[name is not None, after_id is not None]
        bound = {queries.NAME: name, queries.AFTER_ID: after_id, queries.LIMIT: limit}
        return [records.row_to_series(r) for r in self._rows("series", query, bound)]

    def latest_window_stats(self, series_id: str) -> SeriesWindowStats | None:
        """See ``ResultQueries``; the rows of the newest time with their series."""
        query, bound = queries.LATEST_WINDOW_STATS, {_ID: series_id}
        rows = self._rows("window statistics", query, bound)
        return records.rows_to_window_stats(_key(rows[0]), rows) if rows else None

    def window_stats_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[SeriesWindowStats]:
        """See ``ResultQueries``; one result per evaluation time."""
        span = {queries.START: to_ms(start), queries.END: to_ms(end)}
        query, bound = queries.WINDOW_STATS_BETWEEN, {_ID: series_id, **span}
        rows = self._rows("window statistics", query, bound)
        if not rows:
            return []
        key = _key(rows[0])
        groups = itertools.groupby(rows, key=lambda r: r.at)
        return [records.rows_to_window_stats(key, group) for _, group in groups]

    def latest_metadata(self, series_id: str) -> SeriesMetadata | None:
        """See ``ResultQueries``."""
        found = self._latest(tables.series_metadata, series_id)
        return None if found is None else records.row_to_metadata(*found)

    def latest_forecast(self, series_id: str) -> Forecast | None:
        """See ``ResultQueries``."""
        found = self._latest(tables.forecasts, series_id)
        return None if found is None else records.row_to_forecast(*found)

    def latest_forecast_score(self, series_id: str) -> ForecastScore | None:
        """See ``ResultQueries``."""
        found = self._latest(tables.forecast_scores, series_id)
        return None if found is None else records.row_to_score(*found)

    def forecast_scores_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[ForecastScore]:
        """See ``ResultQueries``."""
        span = {queries.START: to_ms(start), queries.END: to_ms(end)}
        query, bound = queries.SCORES_BETWEEN, {_ID: series_id, **span}
        rows = self._rows("forecast scores", query, bound)
        return [records.row_to_score(_key(r), r) for r in rows]

    def _latest(self, table: sa.Table, series_id: str) -> tuple[SeriesKey, _Row] | None:
        rows = self._rows(table.name, queries.LATEST[table], {_ID: series_id})
        return (_key(rows[0]), rows[0]) if rows else None

    def etl_runs(self, limit: int) -> list[EtlRun]:
        """See ``ResultQueries``."""
        rows = self._rows("ETL runs", queries.ETL_RUNS, {queries.LIMIT: limit})
        return [records.row_to_run(r) for r in rows]

    def ping(self) -> None:
        """Run ``SELECT 1``; see ``ResultQueries``."""
        self._rows("SELECT 1", queries.PING, {})


def _key(row: _Row) -> SeriesKey:
    """The key of a history row joined to its series (``adapters.sql.queries``)."""
    mapping = row._mapping
    return records.key_of(mapping[queries.SERIES_NAME], mapping[queries.SERIES_LABELS])


@contextlib.contextmanager
def sql_store(url: str) -> Iterator[SqlResultStore]:
    """A store on new engines, disposed on exit (a ``providers.Resource``).

    Writes go through ``make_engine``, queries through ``make_read_engine``;
    neither opens a connection before it is used.
    """
    engine, reader = make_engine(url), make_read_engine(url)
    try:
        yield SqlResultStore(engine, reader)
    finally:
        reader.dispose()
        engine.dispose()
