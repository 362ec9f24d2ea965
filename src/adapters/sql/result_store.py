"""Results stored in MariaDB/MySQL or SQLite through SQLAlchemy Core."""

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from adapters.sql import records, tables
from adapters.sql.batch import Batch
from adapters.sql.engine import make_engine, translated
from adapters.sql.prune import prune_table
from adapters.sql.upserts import write_batch
from adapters.sql.values import to_ms
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import Result, ResultQueries, ResultStore
from monitoring_core.runs import EtlRun
from monitoring_core.series import SeriesKey, SeriesRecord
from monitoring_core.windows import SeriesWindowStats

_series, _stats = tables.series, tables.window_stats


class SqlResultStore(ResultStore, ResultQueries):
    """Results in the tables of ``adapters.sql.tables``, one transaction per write.

    Args:
        engine: from ``make_engine``; the schema must be migrated first
            (``adapters.sql.migrate.upgrade``).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[Connection]:
        with translated(f"reading {what}"), self._engine.connect() as connection:
            yield connection

    def get_series(self, series_id: str) -> SeriesRecord | None:
        """See ``ResultQueries``."""
        with self._reading("a series") as connection:
            row = connection.execute(_by_id(series_id)).first()
        return None if row is None else records.row_to_series(row)

    def list_series(
        self, name: str | None, after_id: str | None, limit: int
    ) -> list[SeriesRecord]:
        """See ``ResultQueries``; served by the primary key or ``(name, id)``."""
        query = sa.select(_series).order_by(_series.c.id).limit(limit)
        if name is not None:
            query = query.where(_series.c.name == name)
        if after_id is not None:
            query = query.where(_series.c.id > after_id)
        with self._reading("series") as connection:
            return [records.row_to_series(r) for r in connection.execute(query)]

    def latest_window_stats(self, series_id: str) -> SeriesWindowStats | None:
        """See ``ResultQueries``."""
        of_series = _stats.c.series_id == series_id
        newest = sa.select(sa.func.max(_stats.c.at)).where(of_series)
        query = sa.select(_stats).where(
            of_series, _stats.c.at == newest.scalar_subquery()
        )
        with self._reading("window statistics") as connection:
            key, rows = _key(connection, series_id), connection.execute(query).all()
        return records.rows_to_window_stats(key, rows) if key and rows else None

    def window_stats_between(
        self, series_id: str, start: datetime, end: datetime
    ) -> list[SeriesWindowStats]:
        """See ``ResultQueries``; one result per evaluation time."""
        at = _stats.c.at
        query = (
            sa.select(_stats)
            .where(
                _stats.c.series_id == series_id, at.between(to_ms(start), to_ms(end))
            )
            .order_by(at, _stats.c.window_seconds)
        )
        with self._reading("window statistics") as connection:
            key, rows = _key(connection, series_id), connection.execute(query).all()
        if key is None:
            return []
        groups = itertools.groupby(rows, key=lambda r: r.at)
        return [records.rows_to_window_stats(key, group) for _, group in groups]

    def latest_metadata(self, series_id: str) -> SeriesMetadata | None:
        """See ``ResultQueries``."""
        table = tables.series_metadata
        found = self._latest(table, table.c.computed_at, series_id)
        return None if found is None else records.row_to_metadata(*found)

    def latest_forecast(self, series_id: str) -> Forecast | None:
        """See ``ResultQueries``."""
        table = tables.forecasts
        found = self._latest(table, table.c.made_at, series_id)
        return None if found is None else records.row_to_forecast(*found)

    def latest_forecast_score(self, series_id: str) -> ForecastScore | None:
        """See ``ResultQueries``."""
        table = tables.forecast_scores
        found = self._latest(table, table.c.forecast_made_at, series_id)
        return None if found is None else records.row_to_score(*found)

    def _latest(
        self, table: sa.Table, time: sa.Column[int], series_id: str
    ) -> tuple[SeriesKey, Row[tuple[object, ...]]] | None:
        query = sa.select(table).where(table.c.series_id == series_id)
        query = query.order_by(time.desc()).limit(1)
        with self._reading(table.name) as connection:
            key, row = _key(connection, series_id), connection.execute(query).first()
        return None if key is None or row is None else (key, row)

    def etl_runs(self, limit: int) -> list[EtlRun]:
        """See ``ResultQueries``."""
        runs = tables.etl_runs
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
        with self._reading("ETL runs") as connection:
            rows = connection.execute(query.limit(limit))
            return [records.row_to_run(r) for r in rows]

    def ping(self) -> None:
        """Run ``SELECT 1``; see ``ResultQueries``."""
        with self._reading("SELECT 1") as connection:
            connection.execute(sa.text("SELECT 1"))


def _by_id(series_id: str) -> sa.Select[tuple[object, ...]]:
    return sa.select(_series).where(_series.c.id == series_id)


def _key(connection: Connection, series_id: str) -> SeriesKey | None:
    row = connection.execute(_by_id(series_id)).first()
    return None if row is None else records.row_to_key(row)


@contextlib.contextmanager
def sql_store(url: str) -> Iterator[SqlResultStore]:
    """A store on a new engine, disposed on exit (a ``providers.Resource``)."""
    engine = make_engine(url)
    try:
        yield SqlResultStore(engine)
    finally:
        engine.dispose()
