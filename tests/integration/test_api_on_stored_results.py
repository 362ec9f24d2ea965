"""The REST API on MariaDB filled by the storage service from a real ETL run."""

from collections.abc import Iterator
from typing import Any

import pytest
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.kafka.codec import encode
from adapters.rest.api import create_app
from adapters.sql.result_store import sql_store
from tests.support import factories
from tests.support.dataset import LiveDataset
from tests.support.etl import store_one_etl_run
from tests.support.mariadb import private_mariadb


@pytest.fixture(scope="module")
def stored(live_dataset: LiveDataset, kafka_bootstrap: str) -> Iterator[dict[str, Any]]:
    """MariaDB holding one real ETL cycle, stored by `monitoring storage`."""
    with private_mariadb() as db:
        messages = store_one_etl_run(live_dataset.url, kafka_bootstrap, db.url, "api")
        with sql_store(db.url) as store:
            client = testing.TestClient(
                create_app(store, FixedClock(factories.NOW), token=None)
            )
            yield {"client": client, "store": store, "messages": messages}


def _get(stored: dict[str, Any], path: str) -> Any:
    response = stored["client"].simulate_get(path)
    assert response.status_code == 200, (path, response.text)
    return response.json


def _series_ids(stored: dict[str, Any]) -> set[str]:
    return {m["series"]["id"] for m in stored["messages"] if m["series"]}


def test_the_listing_holds_exactly_the_stored_series(stored: dict[str, Any]) -> None:
    listed = _get(stored, "/v1/series?limit=1000")
    assert {s["id"] for s in listed["data"]} == _series_ids(stored)
    for entry in listed["data"]:
        record = stored["store"].get_series(entry["id"])
        assert (entry["name"], entry["kind"]) == (record.key.name, record.kind.value)
        assert entry["labels"] == record.key.label_map


def test_values_served_equal_the_stored_rows_and_the_published_messages(
    stored: dict[str, Any],
) -> None:
    published = {
        m["series"]["id"]: m for m in stored["messages"] if m["type"] == "window_stats"
    }
    for series_id in _series_ids(stored):
        served = _get(stored, f"/v1/series/{series_id}/values")
        row = stored["store"].latest_window_stats(series_id)
        from_row = encode(row, factories.NOW)[1]["data"]
        assert served["windows"] == from_row["windows"]
        assert served["at"] == from_row["at"] == published[series_id]["data"]["at"]
        assert served["windows"] == published[series_id]["data"]["windows"]
        assert served["value_kind"] == published[series_id]["data"]["value_kind"]


def test_forecasts_and_metadata_served_equal_the_stored_rows(
    stored: dict[str, Any],
) -> None:
    checked = 0
    for series_id in _series_ids(stored):
        store = stored["store"]
        answer = _get(stored, f"/v1/series/{series_id}/forecast")
        forecast = answer["forecast"]
        found = store.latest_forecast(series_id)
        if found is None:
            assert forecast is None
        else:
            # The answer carries the kinds beside the forecast, the message in it.
            kinds = {"kind": answer["kind"], "value_kind": answer["value_kind"]}
            assert {**kinds, **forecast} == encode(found, factories.NOW)[1]["data"]
            checked += 1
        served = _get(stored, f"/v1/series/{series_id}/metadata")["metadata"]
        assert (
            served == encode(store.latest_metadata(series_id), factories.NOW)[1]["data"]
        )
    assert checked >= 3


def test_the_etl_run_is_served_with_its_step_timings(stored: dict[str, Any]) -> None:
    (run,) = [m for m in stored["messages"] if m["type"] == "etl_run"]
    served = _get(stored, "/v1/etl/runs?limit=10")["data"]
    (same,) = [r for r in served if r["run_id"] == run["data"]["run_id"]]
    assert same["steps"] == run["data"]["steps"]
    assert same["ok"] is True
