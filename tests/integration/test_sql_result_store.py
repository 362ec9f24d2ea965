"""SqlResultStore on MariaDB: the contract and the migrations, each test in its own
throwaway database ``monitoring_t<hex>``, dropped afterwards."""

import random
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.in_memory.clock import FixedClock
from adapters.sql import migrate, tables
from adapters.sql.engine import make_engine, make_read_engine
from adapters.sql.prediction_log import SqlPredictionLog
from adapters.sql.result_store import SqlResultStore, sql_store
from adapters.sql.sla_repository import SqlSlaRepository
from monitoring_core.errors import StoreUnavailable
from tests.contracts.prediction_log_contract import PredictionLogContract
from tests.contracts.result_store_contract import (
    FAR_FUTURE,
    SqlResultStoreContract,
    forecast,
    key,
    stats,
)
from tests.contracts.sla_repository_contract import SlaRepositoryContract
from tests.support.databases import throwaway_database
from tests.support.prometheus import free_port


class TestMariaDbResultStore(SqlResultStoreContract):
    @pytest.fixture
    def empty_url(self, database_url: str) -> Iterator[str]:
        with throwaway_database(database_url) as url:
            yield url

    @pytest.fixture
    def unreachable_url(self) -> str:
        return f"mysql+pymysql://monitoring:monitoring@127.0.0.1:{free_port()}/m"

    def test_sessions_read_committed_in_strict_mode(self, engine: Engine) -> None:
        with engine.connect() as connection:
            isolation, mode = connection.exec_driver_sql(
                "SELECT @@tx_isolation, @@sql_mode"
            ).one()
        assert isolation == "READ-COMMITTED"
        assert "STRICT_TRANS_TABLES" in mode and "NO_BACKSLASH_ESCAPES" not in mode

    def test_tables_are_innodb_utf8mb4_with_binary_collation(
        self, engine: Engine
    ) -> None:
        query = (
            "SELECT table_name, engine, table_collation FROM information_schema.tables"
            " WHERE table_schema = DATABASE() AND table_name <> 'alembic_version'"
        )
        with engine.connect() as connection:
            found = {tuple(row) for row in connection.exec_driver_sql(query)}
        assert found == {
            (name, "InnoDB", "utf8mb4_bin") for name in tables.metadata.tables
        }

    def test_text_is_stored_as_written_not_as_hex(self, engine: Engine) -> None:
        series = stats().series
        SqlResultStore(engine).write([stats()])
        with engine.connect() as connection:
            labels = connection.execute(
                sa.select(tables.series.c.labels).where(tables.series.c.id == series.id)
            ).scalar_one()
        assert labels == '{"instance":"db-1:9100","job":"node"}'


def test_a_second_engine_sees_the_first_ones_commits(database_url: str) -> None:
    with throwaway_database(database_url) as url:
        migrate.upgrade(url)
        writer, reader = make_engine(url), make_engine(url)
        try:
            SqlResultStore(writer).write([stats()])
            found = SqlResultStore(reader).latest_window_stats(stats().series.id)
        finally:
            writer.dispose()
            reader.dispose()
    assert found is not None and found.at == stats().at


def test_concurrent_writers_of_the_same_series_never_deadlock(
    database_url: str,
) -> None:
    keys = [key(i) for i in range(500)]
    failures: list[StoreUnavailable] = []

    def writer(store: SqlResultStore, number: int) -> None:
        shuffle = random.Random(number).sample
        for cycle in range(10):
            mine = shuffle(keys, len(keys))
            batch = [stats(k, cycle * 4 + number) for k in mine]
            batch += [forecast(k, cycle) for k in mine[:200]]
            try:
                store.write(batch)
            except StoreUnavailable as exc:
                failures.append(exc)

    with throwaway_database(database_url) as url:
        migrate.upgrade(url)
        with sql_store(url) as store:
            threads = [
                threading.Thread(target=writer, args=(store, n)) for n in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            found = store.window_stats_between(keys[0].id, stats().at, FAR_FUTURE)
    assert failures == []
    assert len(found) == 40


class TestMariaDbSlaRepository(SlaRepositoryContract):
    @pytest.fixture
    def repository(
        self, database_url: str, clock: FixedClock
    ) -> Iterator[SqlSlaRepository]:
        with throwaway_database(database_url) as url:
            migrate.upgrade(url)
            engine = make_engine(url)
            yield SqlSlaRepository(engine, clock)
            engine.dispose()

    @pytest.fixture
    def broken(self, clock: FixedClock) -> SqlSlaRepository:
        url = f"mysql+pymysql://monitoring:monitoring@127.0.0.1:{free_port()}/m"
        return SqlSlaRepository(make_engine(url), clock)


def test_reads_run_in_autocommit_and_without_a_pre_ping(database_url: str) -> None:
    with throwaway_database(database_url) as url:
        reader = make_read_engine(url)
        try:
            with reader.connect() as connection:
                autocommit = connection.exec_driver_sql("SELECT @@autocommit").scalar()
            pre_ping = reader.pool._pre_ping
        finally:
            reader.dispose()
    assert (autocommit, pre_ping) == (1, False)


def test_a_read_on_a_connection_the_server_dropped_is_retried_on_a_new_one(
    database_url: str,
) -> None:
    with throwaway_database(database_url) as url:
        migrate.upgrade(url)
        with sql_store(url) as store:
            store.write([stats()])
            store.ping()  # one pooled read connection, which the server now drops
            with store._reader.connect() as connection:
                dropped = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
            admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
            with admin.connect() as connection:
                connection.exec_driver_sql(f"KILL CONNECTION {int(dropped or 0)}")
            admin.dispose()
            found = store.latest_window_stats(stats().series.id)
            with store._reader.connect() as connection:
                now = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
    assert found is not None and found.at == stats().at
    assert now != dropped


class TestMariaDbPredictionLog(PredictionLogContract):
    @pytest.fixture
    def log(self, database_url: str) -> Iterator[SqlPredictionLog]:
        with throwaway_database(database_url) as url:
            migrate.upgrade(url)
            engine = make_engine(url)
            yield SqlPredictionLog(engine)
            engine.dispose()

    @pytest.fixture
    def broken(self) -> SqlPredictionLog:
        url = f"mysql+pymysql://monitoring:monitoring@127.0.0.1:{free_port()}/m"
        return SqlPredictionLog(make_engine(url))
