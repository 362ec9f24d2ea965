"""Issue 11: HEAD, unknown windows, too many selectors, long URIs, the bearer scheme.

Every refusal is an RFC 9457 problem naming what to send instead; the API is
read-only, so "nothing stored" holds by construction (the store is compared).
"""

import pytest
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from adapters.rest.middleware import MAX_URI
from adapters.rest.params import MAX_SELECTORS

PROBLEM = "application/problem+json"


def _routes(key_id: str) -> list[str]:
    series = f"/v1/series/{key_id}"
    return [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/docs",
        "/v1/series?match[]=node_load1",
        series,
        f"{series}/metadata",
        f"{series}/values",
        f"{series}/values/history?window=1h",
        f"{series}/forecast",
        "/v1/etl/runs",
    ]


def test_head_answers_like_get_without_a_body(
    client: testing.TestClient, key_id: str
) -> None:
    for route in _routes(key_id):
        path, _, query = route.partition("?")
        got = client.simulate_get(path, query_string=query)
        head = client.simulate_head(path, query_string=query)
        assert (route, head.status_code) == (route, 200)
        assert head.content == b""
        assert got.content, route
        assert dict(head.headers) == dict(got.headers), route
        assert int(head.headers["content-length"]) == len(got.content)


def test_head_of_metrics_has_its_type_and_no_body(client: testing.TestClient) -> None:
    # The exposition counts requests, so its length changes from call to call.
    got, head = client.simulate_get("/metrics"), client.simulate_head("/metrics")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_head_of_an_unknown_series_is_a_404_without_a_body(
    client: testing.TestClient,
) -> None:
    head = client.simulate_head("/v1/series/0123456789abcdef")
    assert head.status_code == 404 and head.content == b""
    assert head.headers["content-type"] == PROBLEM


def test_a_method_not_allowed_names_head(client: testing.TestClient) -> None:
    result = client.simulate_post("/v1/series")
    assert result.status_code == 405
    assert set(result.headers["allow"].replace(" ", "").split(",")) >= {
        "GET",
        "HEAD",
    }


def test_an_unknown_window_is_a_400_naming_the_computed_windows(
    client: testing.TestClient, key_id: str, store: InMemoryResultStore
) -> None:
    before = store.list_series(None, None, 1000)
    for window in ("7h", "2h", "banana"):
        result = client.simulate_get(
            f"/v1/series/{key_id}/values/history", params={"window": window}
        )
        assert result.status_code == 400, window
        assert result.headers["content-type"] == PROBLEM
        assert result.json["parameter"] == "window"
        assert "1h, 3h, 12h" in result.json["detail"]
    assert store.list_series(None, None, 1000) == before


def test_a_computed_window_is_served(client: testing.TestClient, key_id: str) -> None:
    result = client.simulate_get(
        f"/v1/series/{key_id}/values/history", params={"window": "12h"}
    )
    assert result.status_code == 200
    assert result.json["window"] == "12h"


def test_the_windows_come_from_the_configuration(
    store: InMemoryResultStore, clock: FixedClock, key_id: str
) -> None:
    client = testing.TestClient(create_app(store, clock, None, windows=(60, 300)))
    path = f"/v1/series/{key_id}/values/history"
    refused = client.simulate_get(path, params={"window": "1h"})
    assert refused.status_code == 400
    assert "1m, 5m" in refused.json["detail"]
    assert client.simulate_get(path, params={"window": "5m"}).status_code == 200


def test_match_is_capped(client: testing.TestClient) -> None:
    assert MAX_SELECTORS == 100
    allowed = [f'node_load1{{instance="host-{i}"}}' for i in range(MAX_SELECTORS)]
    result = client.simulate_get("/v1/series", params={"match[]": allowed})
    assert result.status_code == 200
    # node_load1 on host-0..host-4, for each of the two jobs (conftest)
    assert len(result.json["data"]) == 10
    too_many = [*allowed, "up"]
    result = client.simulate_get("/v1/series", params={"match[]": too_many})
    assert result.status_code == 400
    assert result.headers["content-type"] == PROBLEM
    assert result.json["parameter"] == "match[]"
    assert result.json["detail"] == (
        "match[]: at most 100 selectors per request, got 101"
    )


def test_a_uri_over_the_limit_is_a_414_problem(client: testing.TestClient) -> None:
    result = client.simulate_get("/v1/series/" + "a" * MAX_URI)
    assert result.status_code == 414
    assert result.headers["content-type"] == PROBLEM
    assert result.json["status"] == 414
    assert str(MAX_URI) in result.json["detail"]


@pytest.fixture
def guarded(store: InMemoryResultStore, clock: FixedClock) -> testing.TestClient:
    return testing.TestClient(create_app(store, clock, "s3cret-T"))


@pytest.mark.parametrize(
    "scheme", ["Bearer", "bearer", "BEARER", "bEaReR", "Bearer ", "bearer  "]
)
def test_the_bearer_scheme_is_case_insensitive(
    guarded: testing.TestClient, scheme: str
) -> None:
    right = {"Authorization": f"{scheme} s3cret-T"}
    assert guarded.simulate_get("/v1/etl/runs", headers=right).status_code == 200
    wrong = {"Authorization": f"{scheme} s3cret-t"}
    refused = guarded.simulate_get("/v1/etl/runs", headers=wrong)
    assert refused.status_code == 401
    assert refused.json["detail"] == "the bearer token is wrong"


@pytest.mark.parametrize("header", ["s3cret-T", "Basic s3cret-T", "Bearers3cret-T"])
def test_another_scheme_is_refused_and_named(
    guarded: testing.TestClient, header: str
) -> None:
    refused = guarded.simulate_get("/v1/etl/runs", headers={"Authorization": header})
    assert refused.status_code == 401
    assert refused.json["detail"] == "the bearer token is not a Bearer token"
