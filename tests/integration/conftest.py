"""Real servers for the integration tests."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import dataset
from tests.support.processes import Service
from tests.support.prometheus import backfill, private_prometheus
from tests.support.servers import server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def dataset_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Prometheus holding ``tests.support.dataset``."""
    data = tmp_path_factory.mktemp("prometheus") / "data"
    backfill(dataset.to_openmetrics(dataset.build()), data)
    with private_prometheus(data) as url:
        yield url


@pytest.fixture(scope="module")
def live_dataset(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dataset.LiveDataset]:
    """The dataset on a private Prometheus, its last samples two minutes before
    the module starts: for tests that run the ETL on the clock. The session's
    copy ends when the run began; a quarter of an hour later its windows are
    emptier and its forecasts absent (a forecast needs samples within its
    10-minute horizon)."""
    data = dataset.build(dataset.last_sample_time())
    folder = tmp_path_factory.mktemp("live-prometheus") / "data"
    backfill(dataset.to_openmetrics(data), folder)
    with private_prometheus(folder) as url:
        yield dataset.LiveDataset(url=url, data=data)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Kafka broker."""
    with server("KAFKA_BOOTSTRAP", container="kafka") as address:
        yield address


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """SQLAlchemy URL of a real MariaDB/MySQL server's ``monitoring`` database."""
    with server("DATABASE_URL", container="mysql") as url:
        yield url


@pytest.fixture
def kafka_topic() -> str:
    """A fresh topic name for one test."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root folder."""
    return Path(__file__).resolve().parents[2]


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Every process a test starts; killed at teardown whatever happened."""
    started: list[Service] = []
    yield started
    for service in started:
        service.kill()
