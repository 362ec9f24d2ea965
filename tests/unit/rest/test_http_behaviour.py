"""Errors as problems, the token, ETags, and the open operational routes."""

import pytest
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app

DATA_ROUTES = ["/v1/series", "/v1/etl/runs"]


def test_unknown_route_is_a_404_problem(client: testing.TestClient) -> None:
    result = client.simulate_get("/v2/nothing")
    assert result.status_code == 404
    assert result.headers["content-type"] == "application/problem+json"
    assert result.json["type"] == "about:blank"
    assert result.json["status"] == 404


def test_store_outage_is_a_503_with_retry_after(
    store: InMemoryResultStore, client: testing.TestClient, key_id: str
) -> None:
    store.available = False
    for path in [*DATA_ROUTES, f"/v1/series/{key_id}/values"]:
        result = client.simulate_get(path)
        assert result.status_code == 503
        assert result.headers["retry-after"] == "5"
        assert result.json["title"] == "Store unavailable"
    assert client.simulate_get("/readyz").status_code == 503
    assert client.simulate_get("/healthz").status_code == 200


class _BrokenStore(InMemoryResultStore):
    def etl_runs(self, limit: int) -> list:  # type: ignore[type-arg]
        raise RuntimeError("secret internals")


def test_an_unexpected_error_is_a_500_without_details(clock: FixedClock) -> None:
    client = testing.TestClient(create_app(_BrokenStore(), clock, None))
    result = client.simulate_get("/v1/etl/runs")
    assert result.status_code == 500
    assert result.headers["content-type"] == "application/problem+json"
    assert "secret" not in result.text
    assert "Traceback" not in result.text


@pytest.fixture
def guarded(store: InMemoryResultStore, clock: FixedClock) -> testing.TestClient:
    return testing.TestClient(create_app(store, clock, "s3cret"))


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong", "s3cret", "Bearer s3cret2", "Basic s3cret"]
)
def test_data_routes_need_the_token(
    guarded: testing.TestClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    for path in DATA_ROUTES:
        result = guarded.simulate_get(path, headers=headers)
        assert result.status_code == 401
        assert result.headers["www-authenticate"].startswith("Bearer")
        assert result.json["status"] == 401


def test_the_right_token_opens_data_routes(guarded: testing.TestClient) -> None:
    headers = {"Authorization": "Bearer s3cret"}
    for path in DATA_ROUTES:
        assert guarded.simulate_get(path, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]
)
def test_operational_routes_stay_open(guarded: testing.TestClient, path: str) -> None:
    assert guarded.simulate_get(path).status_code == 200


def test_etag_and_304(client: testing.TestClient, key_id: str) -> None:
    path = f"/v1/series/{key_id}/values"
    first = client.simulate_get(path)
    tag = first.headers["etag"]
    assert (
        tag.startswith('"') and first.headers["cache-control"] == "max-age=15, private"
    )
    again = client.simulate_get(path, headers={"If-None-Match": f'"x", {tag}'})
    assert again.status_code == 304
    assert again.text == ""
    weak = client.simulate_get(path, headers={"If-None-Match": f"W/{tag}"})
    assert weak.status_code == 200


def test_etag_changes_with_the_body(
    client: testing.TestClient, clock: FixedClock, key_id: str
) -> None:
    path = f"/v1/series/{key_id}/values"
    tag = client.simulate_get(path).headers["etag"]
    clock.advance(1)  # the sample's age changes
    result = client.simulate_get(path, headers={"If-None-Match": tag})
    assert result.status_code == 200
    assert result.headers["etag"] != tag


def test_metrics_count_requests_by_route_and_status(
    client: testing.TestClient, key_id: str
) -> None:
    client.simulate_get(f"/v1/series/{key_id}")
    client.simulate_get("/v1/series/0000000000000000")
    text = client.simulate_get("/metrics").text
    route = 'method="GET",route="/v1/series/{id}"'
    assert f'monitoring_api_requests_total{{{route},status="200"}} 1.0' in text
    assert f'monitoring_api_requests_total{{{route},status="404"}} 1.0' in text
    assert "monitoring_api_request_seconds_bucket" in text


def test_docs_page_is_swagger_ui_served_by_the_api_itself(
    client: testing.TestClient,
) -> None:
    result = client.simulate_get("/docs")
    assert result.headers["content-type"].startswith("text/html")
    assert '<script src="/ui/static/vendor/swagger-ui-bundle.js"' in result.text
    assert "http" not in result.text.split("<body>")[0]  # no CDN (ADR 0051)
    script = client.simulate_get("/ui/static/docs.js").text
    assert 'url: "/openapi.json"' in script and "tryItOutEnabled: true" in script


def test_readyz_when_the_store_answers(client: testing.TestClient) -> None:
    assert client.simulate_get("/readyz").json == {"status": "ready"}
