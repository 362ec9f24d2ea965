"""The PredictionLog contract on the in-memory fake and on SQLite (migrated)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.in_memory.prediction_log import InMemoryPredictionLog
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.prediction_log import SqlPredictionLog
from tests.contracts.prediction_log_contract import PredictionLogContract


class TestInMemoryPredictionLog(PredictionLogContract):
    @pytest.fixture
    def log(self) -> InMemoryPredictionLog:
        return InMemoryPredictionLog()

    @pytest.fixture
    def broken(self) -> InMemoryPredictionLog:
        log = InMemoryPredictionLog()
        log.available = False
        return log


class TestSqlitePredictionLog(PredictionLogContract):
    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[SqlPredictionLog]:
        url = f"sqlite:///{tmp_path / 'predictions.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        yield SqlPredictionLog(engine)
        engine.dispose()

    @pytest.fixture
    def broken(self, tmp_path: Path) -> SqlPredictionLog:
        return SqlPredictionLog(make_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}"))
