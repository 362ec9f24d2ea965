"""Listing series: name and match[] filters, cursor pagination, one series."""

from typing import Any

import pytest
from falcon import testing

from tests.support import factories
from tests.unit.rest.conftest import many_series

ALL_IDS = {k.id for k in many_series()} | {factories.KEY.id}


def _walk(client: testing.TestClient, **query: Any) -> list[str]:
    """Follow next_cursor to the end; return every listed id in order."""
    seen: list[str] = []
    params = dict(query)
    for _ in range(100):
        body = client.simulate_get("/v1/series", params=params).json
        seen += [s["id"] for s in body["data"]]
        if body["next_cursor"] is None:
            return seen
        params["cursor"] = body["next_cursor"]
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("limit", [1, 4, 7, 31, 1000])
def test_pagination_visits_every_series_exactly_once(
    client: testing.TestClient, limit: int
) -> None:
    seen = _walk(client, limit=limit)
    assert sorted(seen) == sorted(ALL_IDS)
    assert len(seen) == len(set(seen))


def test_filtered_pagination_visits_every_match_exactly_once(
    client: testing.TestClient,
) -> None:
    seen = _walk(client, limit=2, **{"match[]": '{job="db"}'})
    expected = {k.id for k in many_series() if k.label_map["job"] == "db"}
    assert sorted(seen) == sorted(expected)


def _names(client: testing.TestClient, *selectors: str, **query: Any) -> set[str]:
    body = client.simulate_get(
        "/v1/series", params={"match[]": list(selectors), **query}
    ).json
    return {
        f"{s['name']}/{s['labels']['instance']}/{s['labels']['job']}"
        for s in body["data"]
    }


def test_equality_matcher(client: testing.TestClient) -> None:
    found = _names(client, 'up{instance="host-1"}')
    assert found == {"up/host-1/node", "up/host-1/db"}


def test_negative_matcher(client: testing.TestClient) -> None:
    found = _names(client, 'node_load5{job!="node"}')
    assert found == {f"node_load5/host-{i}/db" for i in range(5)}


def test_regex_matcher_is_anchored(client: testing.TestClient) -> None:
    found = _names(client, '{__name__=~"node_load.", instance=~"host-[12]", job="db"}')
    expected = {
        f"{n}/host-{i}/db" for n in ("node_load1", "node_load5") for i in (1, 2)
    }
    assert found == expected
    assert _names(client, '{instance=~"host"}') == set()


def test_negative_regex_matcher(client: testing.TestClient) -> None:
    found = _names(client, 'up{instance!~"host-[0-3]"}')
    assert found == {f"up/host-4/{j}" for j in ("node", "db")}


def test_series_is_listed_when_any_match_matches(client: testing.TestClient) -> None:
    found = _names(
        client, 'up{instance="host-0", job="db"}', 'node_load5{instance="host-3"}'
    )
    assert found == {"up/host-0/db", "node_load5/host-3/node", "node_load5/host-3/db"}


def test_name_filter(client: testing.TestClient) -> None:
    body = client.simulate_get("/v1/series", params={"name": "node_load1"}).json
    assert {s["name"] for s in body["data"]} == {"node_load1"}
    assert len(body["data"]) == 11


def test_one_series(client: testing.TestClient, key_id: str) -> None:
    body = client.simulate_get(f"/v1/series/{key_id}").json
    assert body == {
        "id": key_id,
        "name": "node_load1",
        "labels": {"instance": "db-1:9100", "job": "node"},
        "kind": "gauge",
        "value_kind": "value",
        "first_seen": "2026-11-26T10:00:00.000Z",
        "last_seen": "2026-11-26T12:00:00.000Z",
    }


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "YWJj"}, "cursor"),
        ({"match[]": "up{"}, "match[]"),
        ({"match[]": '{job=~""}'}, "match[]"),
        ({"match[]": '{job=~"("}'}, "match[]"),
    ],
)
def test_bad_list_parameter_is_a_400_naming_it(
    client: testing.TestClient, query: dict[str, str], parameter: str
) -> None:
    result = client.simulate_get("/v1/series", params=query)
    assert result.status_code == 400
    assert result.headers["content-type"] == "application/problem+json"
    assert result.json["parameter"] == parameter
    assert result.json["detail"].startswith(f"{parameter}: ")
