"""The SlaRepository contract on the in-memory fake and on SQLite (migrated)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.sla_repository import SqlSlaRepository, definition_json
from adapters.sql.tables import slas
from monitoring_core.alerting import AlertingPolicy
from tests.contracts.sla_repository_contract import (
    NOW,
    SlaRepositoryContract,
    sla,
)


class TestInMemorySlaRepository(SlaRepositoryContract):
    @pytest.fixture
    def repository(self, clock: FixedClock) -> InMemorySlaRepository:
        return InMemorySlaRepository(clock)

    @pytest.fixture
    def broken(self, clock: FixedClock) -> InMemorySlaRepository:
        repository = InMemorySlaRepository(clock)
        repository.available = False
        return repository


class TestSqliteSlaRepository(SlaRepositoryContract):
    @pytest.fixture
    def repository(
        self, tmp_path: Path, clock: FixedClock
    ) -> Iterator[SqlSlaRepository]:
        url = f"sqlite:///{tmp_path / 'slas.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        yield SqlSlaRepository(engine, clock)
        engine.dispose()

    @pytest.fixture
    def broken(self, tmp_path: Path, clock: FixedClock) -> SqlSlaRepository:
        url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
        return SqlSlaRepository(make_engine(url), clock)


def test_the_stored_definition_is_plain_json_of_the_objectives() -> None:
    text = definition_json(sla())
    assert '"selector": "node_load1{instance=\\"db-1:9100\\"}"' in text
    assert '"window_seconds": 43200' in text and '"lo": 0.0' in text


def test_a_row_written_before_alerting_existed_reads_the_defaults(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'slas.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    old = definition_json(sla())
    assert "alerting" not in old  # the defaults are not written
    with engine.begin() as connection:
        connection.execute(
            sa.insert(slas).values(
                name="web-tier", version=4, definition=old, updated_at=0
            )
        )
    stored = SqlSlaRepository(engine, FixedClock(NOW)).get("web-tier")
    engine.dispose()
    assert stored is not None and stored.alerting == AlertingPolicy()
    assert stored.version == 4 and stored.same_definition(sla())
