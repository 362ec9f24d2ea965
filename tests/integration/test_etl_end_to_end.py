"""`monitoring etl --once` on a backfilled Prometheus and a real Kafka broker."""

import json
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from adapters.prometheus.client import PrometheusHttp
from monitoring_core.series import MetricKind, SeriesKey
from tests.support import dataset
from tests.support.dataset import LiveDataset
from tests.support.etl import consume_all, etl_env, run_etl
from tests.support.prometheus import free_port
from tests.support.schemas import validate

Data = dict[str, tuple[SeriesKey, MetricKind, dataset.Samples]]


@pytest.fixture(scope="module")
def data(live_dataset: LiveDataset) -> Data:
    """The backfilled series by id."""
    return {key.id: (key, kind, s) for key, (kind, s) in live_dataset.data.items()}


@pytest.fixture(scope="module")
def published(live_dataset: LiveDataset, kafka_bootstrap: str) -> dict[str, Any]:
    topic = f"e2e-{free_port()}"
    result = run_etl(etl_env(live_dataset.url, kafka_bootstrap, topic), "--once")
    assert result.returncode == 0, result.stderr[-3000:]
    return {"messages": consume_all(kafka_bootstrap, topic), "stderr": result.stderr}


def test_every_message_validates_against_its_json_schema(
    published: dict[str, Any],
) -> None:
    messages = published["messages"]
    assert {m["type"] for m in messages} >= {
        "window_stats",
        "metadata",
        "forecast",
        "etl_run",
    }
    for message in messages:
        validate(message)


def _numpy_reference(
    samples: list[tuple[float, float]], at: float, window: int
) -> dict[str, float]:
    values = np.array([v for t, v in samples if at - window < t <= at])
    return {
        "min": values.min(),
        "max": values.max(),
        "avg": values.mean(),
        "stddev": values.std(ddof=0),
        "last": values[-1],
        "count": values.size,
    }


def _prometheus_reference(
    http: PrometheusHttp, message: dict[str, Any], window: int, stat: str
) -> float:
    labels = ",".join(f'{k}="{v}"' for k, v in message["series"]["labels"].items())
    selector = f"{message['series']['name']}{{{labels}}}"
    if message["data"]["kind"] == "counter":
        selector = f"rate({selector}[120s])[{window}s:60s]"
    else:
        selector = f"{selector}[{window}s]"
    at = datetime.fromisoformat(message["data"]["at"])
    (item,) = http.query(f"{stat}_over_time({selector})", at)
    return float(item["value"][1])


def test_window_stats_equal_prometheus_and_numpy(
    published: dict[str, Any], live_dataset: LiveDataset, data: Data
) -> None:
    http = PrometheusHttp(live_dataset.url, 30)
    stats = [m for m in published["messages"] if m["type"] == "window_stats"]
    assert {m["series"]["id"] for m in stats} == set(data)
    checked = 0
    for message in stats:
        _, kind, samples = data[message["series"]["id"]]
        at = datetime.fromisoformat(message["data"]["at"]).timestamp()
        for window in message["data"]["windows"]:
            if window["count"] == 0:
                assert window["avg"] is None
                continue
            for stat in ("min", "max", "avg", "stddev", "count", "last"):
                own = _prometheus_reference(
                    http, message, window["window_seconds"], stat
                )
                assert window[stat] == pytest.approx(own, rel=1e-9, abs=1e-12)
                if kind.value == "gauge":
                    ref = _numpy_reference(samples, at, window["window_seconds"])
                    assert window[stat] == pytest.approx(ref[stat], rel=1e-9, abs=1e-12)
                checked += 1
    # Five series x three windows, less the 1 h and 3 h windows of the stale "c".
    assert checked == (5 * 3 - 2) * 6


QUANTILES = ("lower_95", "lower_80", "median", "upper_80", "upper_95")


def test_counters_are_marked_as_rates(published: dict[str, Any]) -> None:
    (counter,) = [
        m
        for m in published["messages"]
        if m["type"] == "window_stats" and m["series"]["name"] == "test_requests_total"
    ]
    assert counter["data"]["value_kind"] == "per_second_rate"
    assert counter["data"]["windows"][0]["avg"] == pytest.approx(
        dataset.RATE_PER_SECOND, rel=0.02
    )


def test_forecasts_cover_the_next_ten_minutes(published: dict[str, Any]) -> None:
    forecasts = [m for m in published["messages"] if m["type"] == "forecast"]
    assert forecasts
    for message in forecasts:
        points = message["data"]["points"]
        assert len(points) == 10 and message["data"]["horizon_seconds"] == 600
        means = [p["mean"] for p in points]
        predicted = message["data"]["predicted"]
        assert predicted["avg"] == pytest.approx(sum(means) / 10)
        # The window's extremes: the medians of their distributions when the
        # forecaster gives them (the last point's running bands; never past
        # the mean: a minimum is at most the mean), else the point path's.
        last = points[-1]
        mean = sum(means) / 10
        low = (
            min(last["running_min"]["median"], mean)
            if last.get("running_min")
            else min(means)
        )
        high = (
            max(last["running_max"]["median"], mean)
            if last.get("running_max")
            else max(means)
        )
        assert (predicted["min"], predicted["max"]) == pytest.approx((low, high))
        assert predicted["min"] <= predicted["avg"] <= predicted["max"]
        for band in predicted.get("intervals", {}).values():
            quantiles = [band[q] for q in QUANTILES]
            assert quantiles == sorted(quantiles), band


def test_metadata_covers_every_series(published: dict[str, Any], data: Data) -> None:
    metadata = [m for m in published["messages"] if m["type"] == "metadata"]
    assert {m["series"]["id"] for m in metadata} == set(data)


def test_the_run_record_and_log_line_time_every_step(published: dict[str, Any]) -> None:
    (run,) = [m for m in published["messages"] if m["type"] == "etl_run"]
    assert run["data"]["ok"] is True
    steps = {s["step"] for s in run["data"]["steps"]}
    assert steps == {
        "discovery",
        "window_stats",
        "metadata",
        "forecast",
        "scoring",
        "publish",
    }
    lines = [
        json.loads(line)
        for line in published["stderr"].splitlines()
        if line.startswith("{")
    ]
    (cycle,) = [line for line in lines if line.get("event") == "etl_cycle"]
    assert set(cycle["steps"]) == steps and cycle["ok"] is True
