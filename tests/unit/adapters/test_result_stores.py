"""The ResultStore contract on the in-memory store and on SQLite (Alembic-migrated)."""

from pathlib import Path

import pytest

from adapters.in_memory.result_store import InMemoryResultStore
from adapters.sql.engine import make_engine
from adapters.sql.result_store import SqlResultStore
from monitoring_core.errors import StoreUnavailable
from tests.contracts.result_store_contract import (
    ResultStoreContract,
    SqlResultStoreContract,
    Store,
    one_of_each,
)


class TestInMemoryResultStore(ResultStoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return InMemoryResultStore()

    @pytest.fixture
    def unreachable_store(self) -> Store:
        store = InMemoryResultStore()
        store.available = False
        return store


class TestSqliteResultStore(SqlResultStoreContract):
    @pytest.fixture
    def empty_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'results.db'}"

    @pytest.fixture
    def unreachable_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'results.db'}"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'results.db'}")
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    engine.dispose()
    assert (mode, timeout) == ("wal", 5000)


def test_a_store_on_an_unmigrated_database_is_unavailable(tmp_path: Path) -> None:
    store = SqlResultStore(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(StoreUnavailable, match="no such table"):
        store.write(one_of_each())
