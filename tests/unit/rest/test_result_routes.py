"""Values, history, metadata, forecast and ETL runs of stored results."""

from datetime import timedelta

import attrs
import pytest
from falcon import testing

from adapters.in_memory.result_store import InMemoryResultStore
from monitoring_core.series import SeriesKey
from tests.support import factories

REF = {
    "id": factories.KEY.id,
    "name": "node_load1",
    "labels": {"instance": "db-1:9100", "job": "node"},
}


def test_values_are_the_latest_windows_with_the_sample_age(
    client: testing.TestClient, key_id: str
) -> None:
    body = client.simulate_get(f"/v1/series/{key_id}/values").json
    assert body["series"] == REF
    assert body["kind"] == "gauge"
    assert body["at"] == "2026-11-26T12:00:00.000Z"
    hour, half_day = body["windows"]
    assert hour["window"] == "1h"
    assert (hour["max"], hour["last"], hour["avg"]) == ("+Inf", "NaN", 1.25)
    assert half_day == {
        "window": "12h",
        "window_seconds": 43200,
        "count": 0,
        "min": None,
        "max": None,
        "avg": None,
        "stddev": None,
        "last": None,
        "last_timestamp": None,
    }
    # The sample is 3 s before the evaluation, which is 7 s before "now".
    assert body["last_sample"] == {
        "value": "NaN",
        "timestamp": "2026-11-26T11:59:57.000Z",
        "age_seconds": 10.0,
    }


def test_values_of_a_series_without_statistics_are_empty(
    store: InMemoryResultStore, client: testing.TestClient
) -> None:
    key = SeriesKey.of("lonely", {})
    store.write([attrs.evolve(factories.metadata(), series=key)])
    body = client.simulate_get(f"/v1/series/{key.id}/values").json
    assert (body["at"], body["windows"], body["last_sample"]) == (None, [], None)


def test_history_defaults_to_the_last_day(
    client: testing.TestClient, key_id: str
) -> None:
    body = client.simulate_get(f"/v1/series/{key_id}/values/history").json
    assert [p["at"] for p in body["points"]] == [
        "2026-11-26T10:00:00.000Z",
        "2026-11-26T12:00:00.000Z",
    ]
    assert body["to"] == "2026-11-26T12:00:07.000Z"
    assert body["from"] == "2026-11-25T12:00:07.000Z"


def test_history_accepts_unix_and_rfc3339_and_one_window(
    client: testing.TestClient, key_id: str
) -> None:
    start = factories.NOW.timestamp() - 3600
    query = {"from": str(start), "to": "2026-11-26T13:00:00+01:00", "window": "12h"}
    body = client.simulate_get(f"/v1/series/{key_id}/values/history", params=query).json
    assert body["window"] == "12h"
    assert [p["at"] for p in body["points"]] == ["2026-11-26T12:00:00.000Z"]
    assert [w["window"] for w in body["points"][0]["windows"]] == ["12h"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-11-26"}, "to"),
        ({"to": "2026-11-26T12:00:00"}, "to"),
        ({"from": "1e99"}, "from"),
        ({"from": "99999999999999"}, "from"),
        ({"from": "2026-11-27T00:00:00Z", "to": "2026-11-26T00:00:00Z"}, "from"),
        ({"from": "2026-11-01T00:00:00Z", "to": "2026-11-26T00:00:00Z"}, "from"),
        ({"window": "an hour"}, "window"),
    ],
)
def test_bad_history_parameter_is_a_400_naming_it(
    client: testing.TestClient, key_id: str, query: dict[str, str], parameter: str
) -> None:
    result = client.simulate_get(f"/v1/series/{key_id}/values/history", params=query)
    assert result.status_code == 400
    assert result.json["parameter"] == parameter


def test_metadata(client: testing.TestClient, key_id: str) -> None:
    body = client.simulate_get(f"/v1/series/{key_id}/metadata").json
    found = body["metadata"]
    assert body["series"] == REF
    assert found["stationarity"] == "trend_stationary"
    assert found["adf"] == {"statistic": -1.2, "p_value": 0.6, "stationary": False}
    assert found["acf"] == [1.0, 0.5, 0.25]
    assert found["acf_significant_lags"] == [1]
    assert found["seasonality"] == {"period_seconds": 3600, "strength": 0.8}
    assert found["computed_at"] == "2026-11-26T12:00:00.000Z"


def test_forecast_with_intervals_and_score(
    client: testing.TestClient, key_id: str
) -> None:
    body = client.simulate_get(f"/v1/series/{key_id}/forecast").json
    forecast, score = body["forecast"], body["score"]
    assert forecast["model"] == "ses"
    assert forecast["predicted"] == {"min": 1.0, "max": 10.0, "avg": 5.5}
    assert forecast["points"][0] == {
        "timestamp": "2026-11-26T12:01:00.000Z",
        "mean": 1.0,
        "lower_80": 0.0,
        "upper_80": 2.0,
        "lower_95": -1.0,
        "upper_95": 3.0,
    }
    assert (score["mae"], score["coverage_95"]) == (0.5, 1.0)


def test_forecast_distributions_give_the_window_intervals_and_running_bands(
    client: testing.TestClient, store: InMemoryResultStore
) -> None:
    """Added keys only: every key of a forecast without them keeps its value."""
    key = SeriesKey.of("node_load1", {"instance": "db-2:9100", "job": "node"})
    banded = attrs.evolve(factories.forecast_with_distributions(), series=key)
    store.write([banded])
    forecast = client.simulate_get(f"/v1/series/{key.id}/forecast").json["forecast"]
    last_max = {  # band(10 + 4.5, 1 + 2.25, 2 + 4.5) of the factory
        "lower_95": 8.0,
        "lower_80": 11.25,
        "median": 14.5,
        "upper_80": 17.75,
        "upper_95": 21.0,
    }
    last_min = {  # band(1 - 1.125, 0.75, 1.5)
        "lower_95": -1.625,
        "lower_80": -0.875,
        "median": -0.125,
        "upper_80": 0.625,
        "upper_95": 1.375,
    }
    average = {  # band(5.5, 0.75, 1.25)
        "lower_95": 4.25,
        "lower_80": 4.75,
        "median": 5.5,
        "upper_80": 6.25,
        "upper_95": 6.75,
    }
    assert forecast["predicted"] == {
        "min": -0.125,  # the medians of the window's min and max
        "max": 14.5,
        "avg": 5.5,  # the mean of the point forecasts
        "intervals": {"min": last_min, "max": last_max, "avg": average},
    }
    first, last = forecast["points"][0], forecast["points"][-1]
    assert (last["running_max"], last["running_min"]) == (last_max, last_min)
    assert first["running_min"]["lower_95"] == "-Inf"
    assert list(first)[:6] == [
        "timestamp",
        "mean",
        "lower_80",
        "upper_80",
        "lower_95",
        "upper_95",
    ]


def test_forecast_and_metadata_are_null_when_absent(
    client: testing.TestClient,
) -> None:
    other = SeriesKey.of("up", {"instance": "host-0", "job": "db"}).id
    assert client.simulate_get(f"/v1/series/{other}/forecast").json["forecast"] is None
    assert client.simulate_get(f"/v1/series/{other}/metadata").json["metadata"] is None


def test_etl_runs_with_step_times(client: testing.TestClient) -> None:
    body = client.simulate_get("/v1/etl/runs", params={"limit": "5"}).json
    (run,) = body["data"]
    assert run["run_id"] == "abc"
    assert run["steps"][1] == {"step": "publish", "seconds": 0.1, "error": "down"}
    assert run["seconds"] == 0.0


def test_score_history_lists_the_scores_of_forecasts_made_in_the_span(
    store: InMemoryResultStore, client: testing.TestClient, key_id: str
) -> None:
    made = [factories.NOW - timedelta(hours=h) for h in (30, 5, 2)]
    store.write(
        [
            attrs.evolve(
                factories.score(), forecast_made_at=m, scored_at=m, mae=float(i)
            )
            for i, m in enumerate(made)
        ]
    )
    path = f"/v1/series/{key_id}/forecast/scores"
    body = client.simulate_get(path).json  # the last day by default
    assert body["series"] == REF
    assert body["from"] == "2026-11-25T12:00:07.000Z"
    assert [s["forecast_made_at"] for s in body["scores"]] == [
        "2026-11-26T07:00:00.000Z",
        "2026-11-26T10:00:00.000Z",
        "2026-11-26T12:00:00.000Z",
    ]
    assert [s["mae"] for s in body["scores"]] == [1.0, 2.0, 0.5]
    assert "series" not in body["scores"][0]
    narrow = {"from": "2026-11-26T09:00:00Z", "to": "2026-11-26T11:00:00Z"}
    only = client.simulate_get(path, params=narrow).json["scores"]
    assert [s["mae"] for s in only] == [2.0]
    bad = client.simulate_get(path, params={"from": "yesterday"})
    assert bad.status_code == 400 and bad.json["parameter"] == "from"


@pytest.mark.parametrize(
    "path",
    ["", "/metadata", "/values", "/values/history", "/forecast", "/forecast/scores"],
)
@pytest.mark.parametrize("series_id", ["0123456789abcdef", "nonsense"])
def test_unknown_series_is_a_404_problem(
    client: testing.TestClient, path: str, series_id: str
) -> None:
    result = client.simulate_get(f"/v1/series/{series_id}{path}")
    assert result.status_code == 404
    assert result.headers["content-type"] == "application/problem+json"
    assert result.json["title"] == "Unknown series"
