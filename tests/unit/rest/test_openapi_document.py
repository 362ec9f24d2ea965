"""The OpenAPI document is valid 3.1 and every response body follows it."""

from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from falcon import testing
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from adapters.rest.openapi import document
from monitoring_core.series import SeriesKey
from tests.support import factories

BASE = "urn:monitoring-api"


def test_document_is_valid_openapi_3_1() -> None:
    spec = document()
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def _check(spec: dict[str, Any], route: str, result: testing.Result) -> None:
    """Validate a response against its operation's schema for that status."""
    responses = spec["paths"][route]["get"]["responses"]
    assert str(result.status_code) in responses, (route, result.status_code)
    content = responses[str(result.status_code)]["content"]
    media = result.headers["content-type"].split(";")[0]
    schema = content[media]["schema"]
    registry: Registry[Any] = Registry().with_resource(
        BASE, Resource(contents=spec, specification=DRAFT202012)
    )
    wrapped = {"$ref": BASE + "#/paths/" + _pointer(route, result, media)}
    validator = Draft202012Validator(
        wrapped, registry=registry, format_checker=FormatChecker()
    )
    assert schema
    validator.validate(result.json)


def _pointer(route: str, result: testing.Result, media: str) -> str:
    escaped = route.replace("~", "~0").replace("/", "~1")
    media = media.replace("/", "~1")
    return f"{escaped}/get/responses/{result.status_code}/content/{media}/schema"


@pytest.fixture
def spec(client: testing.TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.simulate_get("/openapi.json").json
    assert body == document()
    return body


SERIES_ROUTES = [
    "/v1/series/{id}",
    "/v1/series/{id}/metadata",
    "/v1/series/{id}/values",
    "/v1/series/{id}/values/history",
    "/v1/series/{id}/forecast",
]


@pytest.mark.parametrize("route", SERIES_ROUTES)
def test_series_responses_follow_the_schema(
    client: testing.TestClient,
    store: InMemoryResultStore,
    spec: dict[str, Any],
    route: str,
) -> None:
    bare = SeriesKey.of("bare", {})
    store.write([attrs.evolve(factories.insufficient_metadata(), series=bare)])
    for series_id in (factories.KEY.id, bare.id, "ffffffffffffffff"):
        _check(spec, route, client.simulate_get(route.replace("{id}", series_id)))
    store.available = False
    _check(spec, route, client.simulate_get(route.replace("{id}", bare.id)))


def test_a_forecast_with_distributions_follows_the_schema_which_checks_them(
    client: testing.TestClient, store: InMemoryResultStore, spec: dict[str, Any]
) -> None:
    key = SeriesKey.of("banded", {})
    banded = attrs.evolve(factories.forecast_with_distributions(), series=key)
    store.write([banded])
    route = "/v1/series/{id}/forecast"
    answer = client.simulate_get(route.replace("{id}", key.id))
    assert "intervals" in answer.json["forecast"]["predicted"]
    _check(spec, route, answer)
    body = answer.json
    changed = SimpleNamespace(
        status_code=answer.status_code, headers=answer.headers, json=body
    )
    del body["forecast"]["points"][0]["running_max"]["median"]
    with pytest.raises(ValidationError):
        _check(spec, route, changed)  # type: ignore[arg-type]
    del body["forecast"]["points"][0]["running_max"]
    _check(spec, route, changed)  # type: ignore[arg-type]
    body["forecast"]["predicted"]["intervals"]["avg"] = None
    with pytest.raises(ValidationError):
        _check(spec, route, changed)  # type: ignore[arg-type]


def test_other_responses_follow_the_schema(
    client: testing.TestClient, store: InMemoryResultStore, spec: dict[str, Any]
) -> None:
    _check(spec, "/v1/series", client.simulate_get("/v1/series", params={"limit": 2}))
    _check(spec, "/v1/series", client.simulate_get("/v1/series?limit=x"))
    _check(spec, "/v1/etl/runs", client.simulate_get("/v1/etl/runs"))
    _check(spec, "/healthz", client.simulate_get("/healthz"))
    _check(spec, "/readyz", client.simulate_get("/readyz"))
    history = "/v1/series/{id}/values/history"
    bad = client.simulate_get(f"/v1/series/{factories.KEY.id}/values/history?to=x")
    _check(spec, history, bad)
    store.available = False
    _check(spec, "/readyz", client.simulate_get("/readyz"))
    _check(spec, "/v1/etl/runs", client.simulate_get("/v1/etl/runs"))


def test_unauthorized_follows_the_schema(
    store: InMemoryResultStore, clock: Any, spec: dict[str, Any]
) -> None:
    guarded = testing.TestClient(create_app(store, clock, "t"))
    _check(spec, "/v1/series", guarded.simulate_get("/v1/series"))
