"""A Falcon test client over an in-memory store filled with sample results."""

from datetime import timedelta

import attrs
import pytest
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from monitoring_core.series import MetricKind, SeriesKey
from tests.support import factories

NOW = factories.NOW


def many_series() -> list[SeriesKey]:
    """Thirty series over three metrics and two jobs."""
    return [
        SeriesKey.of(name, {"instance": f"host-{i}", "job": job})
        for name in ("node_load1", "node_load5", "up")
        for i in range(5)
        for job in ("node", "db")
    ]


def filled_store() -> InMemoryResultStore:
    store = InMemoryResultStore()
    stats = factories.window_stats()
    store.write(
        [
            stats,
            attrs.evolve(stats, at=NOW - timedelta(hours=2)),
            factories.metadata(),
            factories.forecast(),
            factories.score(),
            factories.etl_run(),
        ]
    )
    counter = attrs.evolve(stats, kind=MetricKind.COUNTER)
    store.write([attrs.evolve(counter, series=k) for k in many_series()])
    return store


@pytest.fixture
def store() -> InMemoryResultStore:
    return filled_store()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW + timedelta(seconds=7))


@pytest.fixture
def client(store: InMemoryResultStore, clock: FixedClock) -> testing.TestClient:
    return testing.TestClient(create_app(store, clock, None))


@pytest.fixture
def key_id() -> str:
    return factories.KEY.id
