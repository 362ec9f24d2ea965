"""Every REST answer about a series says its kind and value kind (ADR 0016)."""

import attrs
import pytest
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from monitoring_core.series import MetricKind, SeriesKey
from tests.support import factories

BUCKET = SeriesKey.of("rpc_seconds_bucket", {"le": "0.5", "job": "api"})
QUANTILE = SeriesKey.of("gc_seconds", {"quantile": "0.9", "job": "api"})
ANSWERS = ["", "/values", "/values/history", "/metadata", "/forecast"]


@pytest.fixture
def client() -> testing.TestClient:
    store = InMemoryResultStore()
    for key, kind in ((BUCKET, MetricKind.HISTOGRAM), (QUANTILE, MetricKind.SUMMARY)):
        store.write(
            [
                attrs.evolve(factories.window_stats(kind), series=key),
                attrs.evolve(factories.forecast(kind), series=key),
                attrs.evolve(factories.metadata(), series=key),
            ]
        )
    return testing.TestClient(create_app(store, FixedClock(factories.NOW), None))


@pytest.mark.parametrize("answer", ANSWERS)
@pytest.mark.parametrize(
    ("key", "kind", "value_kind"),
    [
        (BUCKET, "histogram", "per_second_rate"),
        (QUANTILE, "summary", "value"),
    ],
    ids=["histogram-bucket", "summary-quantile"],
)
def test_the_answer_names_the_kind_and_what_was_analysed(
    client: testing.TestClient,
    answer: str,
    key: SeriesKey,
    kind: str,
    value_kind: str,
) -> None:
    response = client.simulate_get(f"/v1/series/{key.id}{answer}")
    assert response.status_code == 200, response.text
    assert (response.json["kind"], response.json["value_kind"]) == (kind, value_kind)


def test_the_series_list_names_the_kinds(client: testing.TestClient) -> None:
    body = client.simulate_get("/v1/series", params={"match[]": '{job="api"}'}).json
    assert {(s["name"], s["kind"], s["value_kind"]) for s in body["data"]} == {
        ("rpc_seconds_bucket", "histogram", "per_second_rate"),
        ("gc_seconds", "summary", "value"),
    }
