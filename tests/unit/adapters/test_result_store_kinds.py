"""Stores keep every series kind, and forecasts come back with theirs (ADR 0016)."""

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from adapters.in_memory.result_store import InMemoryResultStore
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.result_store import SqlResultStore
from monitoring_core.series import MetricKind, SeriesKey, ValueKind
from tests.contracts.result_store_contract import Store
from tests.support import factories

CASES = [
    (SeriesKey.of("rpc_seconds_bucket", {"le": "0.5"}), MetricKind.HISTOGRAM),
    (SeriesKey.of("gc_seconds_sum"), MetricKind.SUMMARY),
    (SeriesKey.of("gc_seconds", {"quantile": "0.5"}), MetricKind.SUMMARY),
    (SeriesKey.of("jobs_total"), MetricKind.COUNTER),
    (SeriesKey.of("node_load1"), MetricKind.GAUGE),
]


@pytest.fixture(params=["in-memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "in-memory":
        yield InMemoryResultStore()
        return
    url = f"sqlite:///{tmp_path / 'results.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield SqlResultStore(engine)
    engine.dispose()


@pytest.mark.parametrize(("key", "kind"), CASES)
def test_series_and_forecasts_keep_their_kind(
    store: Store, key: SeriesKey, kind: MetricKind
) -> None:
    store.write(
        [
            attrs.evolve(factories.window_stats(kind), series=key),
            attrs.evolve(factories.forecast(kind), series=key),
        ]
    )
    record = store.get_series(key.id)
    stats = store.latest_window_stats(key.id)
    forecast = store.latest_forecast(key.id)
    assert record is not None and stats is not None and forecast is not None
    assert record.kind is stats.kind is forecast.kind is kind
    rate = kind is not MetricKind.GAUGE and "quantile" not in key.label_map
    expected = ValueKind.PER_SECOND_RATE if rate else ValueKind.VALUE
    assert record.value_kind is stats.value_kind is forecast.value_kind is expected
