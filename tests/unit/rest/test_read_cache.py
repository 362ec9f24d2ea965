"""The workers' short cache of single-series reads, alone and behind the routes."""

from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest
from falcon import testing
from prometheus_client import CollectorRegistry

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from adapters.rest.read_cache import CachedQueries
from monitoring_core.errors import StoreUnavailable
from monitoring_core.ports import Result
from monitoring_core.series import SeriesKey
from tests.support import factories

NO_CACHE = {"Cache-Control": "no-cache"}


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def looked_up() -> list[bool]:
    return []


@pytest.fixture
def cached(
    store: InMemoryResultStore, ticks: Ticks, looked_up: list[bool]
) -> CachedQueries:
    return CachedQueries(store, 5, looked_up.append, ticks)


def newer(minutes: float = 1) -> list[Result]:
    """Results evaluated after the conftest's, for ``factories.KEY``."""
    stats, forecast = factories.window_stats(), factories.forecast()
    later = timedelta(minutes=minutes)
    return [
        attrs.evolve(stats, at=stats.at + later),
        attrs.evolve(forecast, made_at=forecast.made_at + later, model="naive"),
    ]


def test_an_answer_is_reused_until_it_expires(
    store: InMemoryResultStore,
    cached: CachedQueries,
    ticks: Ticks,
    looked_up: list[bool],
    key_id: str,
) -> None:
    first = cached.latest_window_stats(key_id)
    store.write(newer())
    ticks.now += 4.9
    assert cached.latest_window_stats(key_id) == first
    ticks.now += 0.1
    fresh = cached.latest_window_stats(key_id)
    assert first is not None and fresh is not None and fresh.at > first.at
    assert looked_up == [False, True, False]


@pytest.mark.parametrize(
    "read",
    [
        CachedQueries.get_series,
        CachedQueries.latest_window_stats,
        CachedQueries.latest_metadata,
        CachedQueries.latest_forecast,
        CachedQueries.latest_forecast_score,
    ],
)
def test_each_single_series_read_is_cached_apart(
    cached: CachedQueries,
    looked_up: list[bool],
    key_id: str,
    read: Callable[[CachedQueries, str], object],
) -> None:
    first = read(cached, key_id)
    assert first is not None and read(cached, key_id) is first
    assert looked_up == [False, True]


def test_the_reads_of_a_series_do_not_answer_for_each_other(
    cached: CachedQueries, key_id: str
) -> None:
    stats, forecast = cached.latest_window_stats(key_id), cached.latest_forecast(key_id)
    assert stats is not None and forecast is not None
    assert cached.latest_window_stats(key_id) is stats
    assert cached.latest_forecast(key_id) is forecast


def test_an_unknown_series_is_remembered_as_unknown_until_expiry(
    store: InMemoryResultStore, cached: CachedQueries, ticks: Ticks
) -> None:
    newcomer = SeriesKey.of("new_metric", {"job": "x"})
    assert cached.get_series(newcomer.id) is None
    store.write([attrs.evolve(factories.window_stats(), series=newcomer)])
    assert cached.get_series(newcomer.id) is None
    ticks.now += 5
    found = cached.get_series(newcomer.id)
    assert found is not None and found.key == newcomer


def test_store_errors_are_not_kept(
    store: InMemoryResultStore, cached: CachedQueries, key_id: str
) -> None:
    store.available = False
    with pytest.raises(StoreUnavailable):
        cached.latest_window_stats(key_id)
    store.available = True
    assert cached.latest_window_stats(key_id) is not None


def test_during_an_outage_answers_last_until_they_expire(
    store: InMemoryResultStore, cached: CachedQueries, ticks: Ticks, key_id: str
) -> None:
    kept = cached.latest_window_stats(key_id)
    store.available = False
    ticks.now += 4
    assert cached.latest_window_stats(key_id) is kept
    ticks.now += 1
    with pytest.raises(StoreUnavailable):
        cached.latest_window_stats(key_id)


def test_listings_history_runs_and_ping_always_reach_the_store(
    store: InMemoryResultStore, cached: CachedQueries, looked_up: list[bool]
) -> None:
    start, end = factories.NOW - timedelta(days=1), factories.NOW + timedelta(days=1)
    store.available = False
    for read in (
        lambda: cached.list_series(None, None, 10),
        lambda: cached.window_stats_between(factories.KEY.id, start, end),
        lambda: cached.etl_runs(5),
        cached.ping,
    ):
        with pytest.raises(StoreUnavailable):
            read()
    assert looked_up == []


def test_the_oldest_answers_go_first_when_full(
    store: InMemoryResultStore, ticks: Ticks, looked_up: list[bool]
) -> None:
    cached = CachedQueries(store, 5, looked_up.append, ticks, max_entries=2)
    for name in ("a", "b", "a", "c", "b", "a"):
        cached.get_series(name * 16)
    # a hit does not renew "a": "c" drops it, the oldest read; then "b" is kept
    assert looked_up == [False, False, True, False, True, False]


def test_a_cache_needs_a_positive_lifetime(store: InMemoryResultStore) -> None:
    with pytest.raises(ValueError, match="seconds"):
        CachedQueries(store, 0)


@pytest.fixture
def cached_client(
    store: InMemoryResultStore, clock: FixedClock
) -> Callable[[], testing.TestClient]:
    registry = CollectorRegistry()
    app = create_app(store, clock, None, registry=registry, cache_seconds=60)
    return lambda: testing.TestClient(app)


def test_routes_answer_from_the_cache_and_no_cache_reads_the_store(
    store: InMemoryResultStore,
    cached_client: Callable[[], testing.TestClient],
    key_id: str,
) -> None:
    client = cached_client()
    path = f"/v1/series/{key_id}/values"
    first = client.simulate_get(path).json
    store.write(newer())
    assert client.simulate_get(path).json == first
    fresh = client.simulate_get(path, headers=NO_CACHE).json
    assert fresh["at"] > first["at"]
    forecast = client.simulate_get(f"/v1/series/{key_id}/forecast", headers=NO_CACHE)
    assert forecast.json["forecast"]["model"] == "naive"
    text = client.simulate_get("/metrics").text
    assert 'monitoring_api_cache_lookups_total{result="hit"} 1.0' in text
    assert 'monitoring_api_cache_lookups_total{result="miss"} 1.0' in text


def test_no_cache_during_an_outage_is_a_503(
    store: InMemoryResultStore,
    cached_client: Callable[[], testing.TestClient],
    key_id: str,
) -> None:
    client = cached_client()
    path = f"/v1/series/{key_id}/values"
    assert client.simulate_get(path).status_code == 200
    store.available = False
    assert client.simulate_get(path).status_code == 200  # kept, not yet expired
    result = client.simulate_get(path, headers=NO_CACHE)
    assert result.status_code == 503
    assert result.headers["retry-after"] == "5"
    assert client.simulate_get("/readyz").status_code == 503


def test_without_cache_seconds_the_app_keeps_nothing(
    store: InMemoryResultStore, client: testing.TestClient, key_id: str
) -> None:
    path = f"/v1/series/{key_id}/values"
    first = client.simulate_get(path).json
    store.write(newer())
    assert client.simulate_get(path).json["at"] > first["at"]
    assert "monitoring_api_cache_lookups" not in client.simulate_get("/metrics").text
