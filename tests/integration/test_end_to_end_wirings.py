"""Issue #6, criteria 1 and 2: one set of end-to-end expectations, two wirings.

- ``all_in_one``: ``monitoring run`` alone, on a SQLite file.
- ``distributed``: ``monitoring sla-manager``, ``storage``, ``api`` and ``etl``
  as four processes, on a throwaway MariaDB database and a private Kafka topic;
  the ETL asks the SLA manager (gRPC) which series to forecast.

Both read the local Prometheus, which scrapes a real node-exporter every 5 s
(job "node"). Only the SLA set is forecast (``MONITORING_FORECAST_SELECTORS=none``),
so a forecast of ``node_load1`` proves the ETL got its targets from the SLA
manager. Then, for both: the example SLA is applied and listed through the CLI;
REST serves the series, its statistics (equal to Prometheus' own), metadata,
history, forecast and ETL runs; the CLI's gRPC reports show the series and its
forecast; every process stops with exit code 0 on a signal; and the database
afterwards holds exactly the results every recorded ETL run published.
"""

import contextlib
import itertools
import json
import math
import re
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
import sqlalchemy as sa
import yaml
from confluent_kafka.admin import AdminClient
from prometheus_client.parser import text_string_to_metric_families

from adapters.sql import tables
from monitoring_core.selectors import Matcher, parse_selector
from monitoring_core.series import SeriesKey
from tests.support.databases import throwaway_database
from tests.support.grpc import free_port, monitoring_command
from tests.support.processes import (
    Service,
    Stopped,
    base_environment,
    eventually,
    logs_of,
    start_service,
    stop_all,
    wait_for_grpc,
    wait_for_http,
)
from tests.support.servers import ROOT, server
from tests.support.storage import committed_lag

EXAMPLE = ROOT / "examples" / "sla.yaml"
NODE = {"instance": "127.0.0.1:19100", "job": "node"}
LOAD = 'node_load1{job="node"}'
LOAD_EXACT = 'node_load1{instance="127.0.0.1:19100",job="node"}'
NOT_IN_SLA = ('node_boot_time_seconds{job="node"}', 'up{job="node"}')
WINDOWS = ("1m", "5m")
WINDOW_SECONDS = {"1m": 60, "5m": 300}
STEP_SECONDS, HORIZON_SECONDS = 5, 600
DEADLINE = 120.0
"""Seconds each expectation may take to come true."""
STOP_WITHIN = 30.0
SETTINGS = {
    "MONITORING_SERIES_SELECTORS": '{job="node"}',
    "MONITORING_FORECAST_SELECTORS": "none",
    "MONITORING_CYCLE_SECONDS": "10",
    "MONITORING_FORECAST_STEP": f"{STEP_SECONDS}s",
    "MONITORING_FORECAST_HORIZON": "10m",
    "MONITORING_FORECAST_LOOKBACK": "2h",
    "MONITORING_METADATA_LOOKBACK": "1h",
    "MONITORING_METADATA_STEP": "15s",
    "MONITORING_WINDOWS": ",".join(WINDOWS),
    "MONITORING_LOG_LEVEL": "INFO",
}
"""The settings both wirings share."""
HISTORY_NEEDED = 36
"""node_load1 samples in the last 5 minutes (3 minutes at 5 s) before starting."""


@attrs.define(eq=False)
class Wiring:
    """One way of running the services, and where to reach them."""

    name: str
    api: str
    grpc: str
    database_url: str
    services: list[Service]
    metrics: dict[str, tuple[str, ...]]
    """``/metrics`` URL -> metric families that must be there."""
    health: tuple[str, ...]
    """Further health URLs that must answer 200 (besides the API's)."""
    stop: Callable[[], list[Stopped]]
    """Stops every process in the wiring's order; how each one ended."""
    summary: Callable[[], str] = lambda: ""
    """A line from the logs to check after the stop (all-in-one: its count)."""

    def logs(self) -> str:
        return logs_of(self.services)


# --- fixtures -----------------------------------------------------------------


def prometheus_query(url: str, promql: str, at: float | None = None) -> list[Any]:
    """The result of an instant query, at ``at`` (Unix seconds) when given."""
    params = {"query": promql}
    if at is not None:
        params["time"] = f"{at:.3f}"
    response = requests.get(f"{url}/api/v1/query", params=params, timeout=30)
    response.raise_for_status()
    result: list[Any] = response.json()["data"]["result"]
    return result


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    """The local Prometheus, once it holds a few minutes of node-exporter data."""
    with server("PROMETHEUS_URL") as url:

        def enough() -> None:
            found = prometheus_query(url, f"count_over_time({LOAD_EXACT}[5m])")
            count = int(float(found[0]["value"][1])) if found else 0
            assert count >= HISTORY_NEEDED, f"{count} node_load1 samples in 5m"

        eventually(enough, timeout=240, what="node-exporter history", interval=5)
        yield url


def _all_in_one(tmp_path: Path, prometheus: str) -> Iterator[Wiring]:
    api_port, grpc_port = free_port(), free_port()
    database = tmp_path / "monitoring.db"
    env = {
        **SETTINGS,
        "MONITORING_PROMETHEUS_URL": prometheus,
        "MONITORING_DATABASE_URL": f"sqlite:///{database}",
        "MONITORING_API_PORT": str(api_port),
        "MONITORING_GRPC_PORT": str(grpc_port),
        "MONITORING_ETL_METRICS_PORT": "0",
        "MONITORING_STORAGE_PORT": "0",
        "MONITORING_SLA_METRICS_PORT": "0",
    }
    run = start_service("run", ["run"], env, tmp_path / "all_in_one")
    api = f"http://127.0.0.1:{api_port}"
    try:
        wait_for_grpc(f"127.0.0.1:{grpc_port}", run)
        wait_for_http(f"{api}/healthz", [run])

        def summary() -> str:
            found = re.findall(r"stopped; \d+ results stored", run.stderr.read_text())
            return found[-1] if found else ""

        yield Wiring(
            name="all_in_one",
            api=api,
            grpc=f"127.0.0.1:{grpc_port}",
            database_url=f"sqlite:///{database}",
            services=[run],
            metrics={
                f"{api}/metrics": (
                    "monitoring_etl_cycles",
                    "monitoring_etl_step_duration_seconds",
                    "monitoring_storage_messages",
                    "monitoring_api_requests",
                    "monitoring_sla_grpc_calls",
                )
            },
            health=(),
            stop=lambda: stop_all([run], signal.SIGINT, STOP_WITHIN),
            summary=summary,
        )
    finally:
        run.kill()


def _migrate(env: dict[str, str], folder: Path) -> None:
    done = subprocess.run(
        [monitoring_command(), "db", "upgrade"],
        env={**base_environment(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )
    assert done.returncode == 0, f"monitoring db upgrade: {done.stderr[-3000:]}"


def _drop_topics(bootstrap: str, *topics: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.delete_topics(list(topics), operation_timeout=10).values():
        with contextlib.suppress(Exception):  # it may never have been created
            future.result(timeout=15)


def _distributed(
    tmp_path: Path, prometheus: str, kafka: str, server_url: str
) -> Iterator[Wiring]:
    folder = tmp_path / "distributed"
    folder.mkdir()
    topic = f"e2e-{uuid.uuid4().hex[:12]}"
    group = f"storage-{topic}"
    names = ("api", "grpc", "storage", "etl_metrics", "sla_metrics")
    ports = {name: free_port() for name in names}
    with throwaway_database(server_url, prefix="monitoring_e2e") as url:
        common = {
            **SETTINGS,
            "MONITORING_PROMETHEUS_URL": prometheus,
            "MONITORING_DATABASE_URL": url,
            "MONITORING_DATABASE_MIGRATE": "false",
            "MONITORING_KAFKA_BOOTSTRAP": kafka,
            "MONITORING_KAFKA_TOPIC": topic,
            "MONITORING_DEAD_LETTER_TOPIC": f"{topic}.dead-letter",
            "MONITORING_KAFKA_GROUP": group,
            "MONITORING_KAFKA_FLUSH_SECONDS": "10",
            "MONITORING_API_PORT": str(ports["api"]),
            "MONITORING_GRPC_PORT": str(ports["grpc"]),
            "MONITORING_STORAGE_PORT": str(ports["storage"]),
            "MONITORING_ETL_METRICS_PORT": str(ports["etl_metrics"]),
            "MONITORING_SLA_METRICS_PORT": str(ports["sla_metrics"]),
        }
        _migrate(common, folder)  # once, before any service could race to it
        grpc = f"127.0.0.1:{ports['grpc']}"
        services: list[Service] = []
        try:
            for name in ("sla-manager", "storage", "api"):
                services.append(start_service(name, [name], common, folder))
            wait_for_grpc(grpc, services[0])
            etl_env = {**common, "MONITORING_SLA_ADDRESS": grpc}
            services.append(start_service("etl", ["etl"], etl_env, folder))
            sla, storage, api, etl = services
            base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
            for probe in (
                f"{base['api']}/healthz",
                f"{base['storage']}/healthz",
                f"{base['etl_metrics']}/metrics",
                f"{base['sla_metrics']}/metrics",
            ):
                wait_for_http(probe, services)

            def stop() -> list[Stopped]:
                # The ETL first (it flushes to Kafka), then storage once it has
                # committed every message, then the readers.
                ended = stop_all([etl], signal.SIGTERM, STOP_WITHIN)

                def caught_up() -> None:
                    lag = committed_lag(kafka, topic, group)
                    assert lag == 0, f"{lag} messages not yet stored"

                eventually(
                    caught_up,
                    timeout=60,
                    what="storage catching up",
                    services=[storage],
                )
                return ended + stop_all([storage, api, sla], signal.SIGTERM)

            yield Wiring(
                name="distributed",
                api=base["api"],
                grpc=grpc,
                database_url=url,
                services=services,
                metrics={
                    f"{base['etl_metrics']}/metrics": (
                        "monitoring_etl_cycles",
                        "monitoring_etl_step_duration_seconds",
                    ),
                    f"{base['storage']}/metrics": ("monitoring_storage_messages",),
                    f"{base['api']}/metrics": ("monitoring_api_requests",),
                    f"{base['sla_metrics']}/metrics": ("monitoring_sla_grpc_calls",),
                },
                health=(f"{base['storage']}/healthz",),
                stop=stop,
            )
        finally:
            for service in services:
                service.kill()
            _drop_topics(kafka, topic, f"{topic}.dead-letter")


@pytest.fixture(params=["all_in_one", "distributed"])
def wiring(
    request: pytest.FixtureRequest, tmp_path: Path, prometheus_url: str
) -> Iterator[Wiring]:
    """The services of one wiring, started and healthy; killed at teardown."""
    if request.param == "all_in_one":
        yield from _all_in_one(tmp_path, prometheus_url)
        return
    yield from _distributed(
        tmp_path,
        prometheus_url,
        request.getfixturevalue("kafka_bootstrap"),
        request.getfixturevalue("database_url"),
    )


# --- clients ------------------------------------------------------------------


def sla_cli(wiring: Wiring, *args: str) -> "subprocess.CompletedProcess[str]":
    """``monitoring sla ARGS`` against the wiring's SLA manager."""
    return subprocess.run(
        [monitoring_command(), "sla", *args],
        env={**base_environment(), "MONITORING_SLA_ADDRESS": wiring.grpc},
        capture_output=True,
        text=True,
        timeout=60,
    )


def sla_json(wiring: Wiring, *args: str) -> Any:
    """What ``monitoring sla --output json ARGS`` printed; it must succeed."""
    done = sla_cli(wiring, "--output", "json", *args)
    assert done.returncode == 0, f"monitoring sla {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout)


def get(wiring: Wiring, path: str, **params: str) -> Any:
    """The JSON body of a REST call that must answer 200."""
    response = requests.get(f"{wiring.api}{path}", params=params, timeout=10)
    assert response.status_code == 200, (path, response.status_code, response.text)
    return response.json()


def moment(text: str) -> float:
    """Unix seconds of an RFC 3339 time (nanoseconds are cut to microseconds)."""
    return datetime.fromisoformat(text).timestamp()


def milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


def matchers(selector: str) -> frozenset[Matcher]:
    """A selector's matchers, in any order."""
    return frozenset(parse_selector(selector).matchers)


# --- the shared expectations --------------------------------------------------


def check_sla_applied(wiring: Wiring) -> None:
    done = sla_cli(wiring, "apply", "-f", str(EXAMPLE))
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "sla node-health created (version 1)\n",
        "",
    ), wiring.logs()
    listed = sla_json(wiring, "list")
    assert [s["name"] for s in listed] == ["node-health"]
    # The same selectors (the server may order their labels its own way).
    assert [matchers(o["selector"]) for o in listed[0]["objectives"]] == [
        matchers(o["selector"])
        for o in yaml.safe_load(EXAMPLE.read_text())["objectives"]
    ]


def scrape(url: str) -> tuple[set[str], dict[str, float]]:
    """Metric family names, and sample values by ``name{label="value",...}``."""
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code)
    families = list(text_string_to_metric_families(response.text))
    samples = {}
    for family in families:
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return {family.name for family in families}, samples


def check_health_and_metrics(wiring: Wiring) -> None:
    for path in ("/healthz", "/readyz"):
        get(wiring, path)
    for url in wiring.health:
        assert requests.get(url, timeout=10).status_code == 200, url
    for url, wanted in wiring.metrics.items():
        families, samples = scrape(url)
        missing = sorted(set(wanted) - families)
        assert not missing, f"{url} lacks {missing}"
        if "monitoring_etl_cycles" in wanted:
            ok = samples.get('monitoring_etl_cycles_total{outcome="ok"}', 0.0)
            assert ok >= 1, f"{url}: no ETL cycle succeeded yet"
    spec = get(wiring, "/openapi.json")
    assert spec["openapi"].startswith("3.")
    assert "/v1/series/{id}/forecast" in spec["paths"]


def prometheus_labels(prometheus: str, selector: str) -> list[dict[str, str]]:
    """Label sets (without the name) of the series Prometheus has now."""
    return sorted(
        (
            {k: v for k, v in item["metric"].items() if k != "__name__"}
            for item in prometheus_query(prometheus, selector)
        ),
        key=lambda labels: sorted(labels.items()),
    )


def check_series(wiring: Wiring, prometheus: str) -> str:
    """The listing holds exactly Prometheus' node_load1 series; its id."""
    listed = get(wiring, "/v1/series", **{"match[]": LOAD, "limit": "1000"})["data"]
    assert [s["name"] for s in listed] == ["node_load1"], listed
    assert [s["labels"] for s in listed] == prometheus_labels(prometheus, LOAD)
    [entry] = listed
    assert entry["labels"] == NODE
    assert entry["id"] == SeriesKey.of("node_load1", NODE).id
    one = get(wiring, f"/v1/series/{entry['id']}")
    assert (one["id"], one["name"], one["labels"], one["kind"]) == (
        entry["id"],
        "node_load1",
        NODE,
        "gauge",
    )
    return str(entry["id"])


def check_values(wiring: Wiring, series_id: str) -> dict[str, Any]:
    """Statistics of both windows, each with samples, and the last sample."""
    values = get(wiring, f"/v1/series/{series_id}/values")
    assert [w["window"] for w in values["windows"]] == list(WINDOWS), values
    for window in values["windows"]:
        assert window["count"] > 0, window
        assert window["last"] is not None and window["last_timestamp"], window
    assert values["last_sample"] is not None, values
    assert values["value_kind"] == "value"
    return dict(values)


def check_metadata_and_history(wiring: Wiring, series_id: str) -> None:
    body = get(wiring, f"/v1/series/{series_id}/metadata")
    metadata = body["metadata"]
    assert metadata is not None, "no metadata yet"
    assert (metadata["lookback_seconds"], metadata["step_seconds"]) == (3600, 15)
    assert metadata["sample_count"] > 0
    history = get(wiring, f"/v1/series/{series_id}/values/history")
    assert history["points"], "no statistics history"
    for point in history["points"]:
        assert [w["window"] for w in point["windows"]] == list(WINDOWS)


def check_forecast(wiring: Wiring, series_id: str) -> dict[str, Any]:
    """A forecast over the horizon, every point inside nested intervals."""
    forecast = get(wiring, f"/v1/series/{series_id}/forecast")["forecast"]
    assert forecast is not None, "no forecast of node_load1 yet"
    assert forecast["step_seconds"] == STEP_SECONDS
    assert forecast["horizon_seconds"] == HORIZON_SECONDS
    points = forecast["points"]
    assert len(points) == HORIZON_SECONDS // STEP_SECONDS
    times = [moment(p["timestamp"]) for p in points]
    assert all(
        b - a == pytest.approx(STEP_SECONDS) for a, b in itertools.pairwise(times)
    )
    assert times[0] > moment(forecast["made_at"]) - STEP_SECONDS
    for p in points:
        bounds = [p["lower_95"], p["lower_80"], p["mean"], p["upper_80"], p["upper_95"]]
        assert all(isinstance(b, float | int) for b in bounds), p
        assert bounds == sorted(bounds), p
        assert p["upper_95"] > p["lower_95"], p
    return dict(forecast)


def check_runs(wiring: Wiring) -> None:
    runs = get(wiring, "/v1/etl/runs", limit="50")["data"]
    analysed = [r for r in runs if "window_stats" in {s["step"] for s in r["steps"]}]
    assert analysed, f"no analysis run among {len(runs)} runs"
    run = analysed[0]
    assert run["ok"] is True, run
    assert [s["step"] for s in run["steps"]] == [
        "discovery",
        "window_stats",
        "forecast",
        "scoring",
        "publish",
    ]
    assert all(s["seconds"] >= 0 and s["error"] is None for s in run["steps"])
    assert run["series_count"] > 0 and run["results_published"] > 0


def check_not_forecast(wiring: Wiring) -> None:
    """Series outside the SLA set have statistics but no forecast."""
    for selector in NOT_IN_SLA:
        found = get(wiring, "/v1/series", **{"match[]": selector})["data"]
        assert len(found) == 1, (selector, found)
        series_id = found[0]["id"]
        assert get(wiring, f"/v1/series/{series_id}/values")["windows"], selector
        response = requests.get(
            f"{wiring.api}/v1/series/{series_id}/forecast", timeout=10
        )
        # The API's contract: a known series without a forecast is 200 with
        # "forecast": null (404 is for unknown series).
        assert response.status_code == 200, (selector, response.text)
        assert response.json()["forecast"] is None, selector


def check_rest(wiring: Wiring, prometheus: str) -> tuple[str, dict[str, Any]]:
    """Every REST expectation; the node_load1 id and its latest values."""

    def within(check: Callable[[], Any], what: str) -> Any:
        return eventually(check, timeout=DEADLINE, what=what, services=wiring.services)

    within(lambda: check_health_and_metrics(wiring), "health and metrics")
    series_id: str = within(lambda: check_series(wiring, prometheus), "series")
    within(lambda: check_metadata_and_history(wiring, series_id), "metadata")
    within(lambda: check_forecast(wiring, series_id), "forecast of node_load1")
    within(lambda: check_runs(wiring), "ETL runs")
    within(lambda: check_not_forecast(wiring), "series outside the SLA set")
    values = within(lambda: check_values(wiring, series_id), "values")
    return series_id, values


def _samples_at(prometheus: str, at: float) -> dict[float, float]:
    """node_load1's raw samples in the 30 s up to ``at``, by Unix time."""
    [item] = prometheus_query(prometheus, f"{LOAD_EXACT}[30s]", at)
    return {float(t): float(v) for t, v in item["values"]}


def _over_time(prometheus: str, window: str, at: float) -> dict[str, float]:
    """Prometheus' own ``*_over_time`` of node_load1 over ``window`` at ``at``."""
    found = {}
    for stat in ("count", "min", "max", "avg", "stddev", "last"):
        promql = f"{stat}_over_time({LOAD_EXACT}[{window}])"
        [item] = prometheus_query(prometheus, promql, at)
        found[stat] = float(item["value"][1])
    return found


def _answers(
    prometheus: str, seconds: int, at: float, last: float
) -> list[dict[str, float]]:
    """What Prometheus answers for the window ``[at - seconds, at]``.

    Two details make more than one answer right. The ETL asks at ``at`` rounded
    to the millisecond, but ``at`` is stored truncated: both times are tried.
    And a scrape that began before ``at`` may be appended only after the ETL's
    query ran (node-exporter scrapes here take up to seconds): the ETL then saw
    the window only up to its newest visible sample ``last``, so the window
    ``[at - seconds, last]`` is asked too (evaluated at ``last``, same start).
    """
    answers = []
    for t in (at, at + 0.001):
        answers.append(_over_time(prometheus, f"{seconds}s", t))
        visible = seconds * 1000 - (milliseconds(t) - milliseconds(last))
        answers.append(_over_time(prometheus, f"{visible}ms", last))
    return answers


def _same(served: dict[str, Any], expected: dict[str, float]) -> bool:
    return all(
        math.isclose(float(served[k]), v, rel_tol=1e-12, abs_tol=1e-9)
        for k, v in expected.items()
    )


def check_values_equal_prometheus(prometheus: str, values: dict[str, Any]) -> None:
    """The served last sample and statistics are Prometheus' own."""
    last = values["last_sample"]
    stamp = moment(last["timestamp"])
    samples = _samples_at(prometheus, stamp)
    at_stamp = {
        t: v for t, v in samples.items() if milliseconds(t) == milliseconds(stamp)
    }
    assert len(at_stamp) == 1, f"Prometheus has no sample at {last['timestamp']}"
    [value] = at_stamp.values()
    assert abs(value - last["value"]) <= 1e-9, (value, last)
    at = moment(values["at"])
    assert stamp <= at
    for window in values["windows"]:
        assert window["last_timestamp"] == last["timestamp"], window
        answers = _answers(prometheus, window["window_seconds"], at, stamp)
        assert any(_same(window, a) for a in answers), (window, answers)


def _objective_zero(report: dict[str, Any]) -> dict[str, Any]:
    [objective] = [o for o in report["objectives"] if o.get("index", 0) == 0]
    assert matchers(objective["objective"]["selector"]) == matchers(LOAD)
    return dict(objective)


def check_violations(wiring: Wiring) -> None:
    report = sla_json(wiring, "violations", "node-health", "--window", "1m,5m")
    assert report["name"] == "node-health"
    objective = _objective_zero(report)
    assert [w["window"] for w in objective["windows"]] == list(WINDOWS)
    for window in objective["windows"]:
        [entry] = window["series"]
        assert entry["series"]["name"] == "node_load1"
        assert entry["series"]["labels"] == NODE
        report_ = entry["report"]
        assert report_["window"] == window["window"]
        assert report_.get("coverage", 0.0) > 0, report_
        assert report_["total_slices"] == WINDOW_SECONDS[window["window"]] // 60


def check_prediction(wiring: Wiring) -> str:
    """The prediction uses a stored node_load1 forecast; its time."""
    report = sla_json(wiring, "predict", "node-health")
    assert report["horizon"] == "10m"
    [entry] = _objective_zero(report)["series"]
    assert (entry["series"]["name"], entry["series"]["labels"]) == ("node_load1", NODE)
    assert "forecast_made_at" in entry, f"no forecast used: {entry}"
    slices = entry.get("slices", [])
    # One per minute of the horizon that the forecast's points reach.
    assert 0 < len(slices) <= HORIZON_SECONDS // 60, slices
    for piece in slices:
        assert moment(piece["end"]) - moment(piece["start"]) == 60
        assert 0 <= piece.get("probability", 0.0) <= 1
        assert (
            piece.get("lower", 0.0) <= piece.get("mean", 0.0) <= piece.get("upper", 0.0)
        )
    return str(entry["forecast_made_at"])


def check_grpc(wiring: Wiring) -> str:
    def within(check: Callable[[], Any], what: str) -> Any:
        return eventually(check, timeout=DEADLINE, what=what, services=wiring.services)

    within(lambda: check_violations(wiring), "sla violations")
    made_at: str = within(lambda: check_prediction(wiring), "sla predict")
    status = sla_cli(wiring, "status", "node-health")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("sla node-health: "), status.stdout
    return made_at


def check_stopped(wiring: Wiring) -> None:
    ended = wiring.stop()
    bad = [e for e in ended if e.code != 0 or e.seconds > STOP_WITHIN]
    assert not bad, f"{bad}\n{wiring.logs()}"
    stderr = "".join(s.stderr.read_text() for s in wiring.services)
    assert "Traceback" not in stderr, wiring.logs()
    assert "were not stored before shutdown" not in stderr, wiring.logs()


# --- nothing lost -------------------------------------------------------------


@attrs.frozen
class Stored:
    """What the database holds, counted by the times that key each result."""

    runs: list[dict[str, Any]]
    stats: Counter[int]
    """Window-statistics results (series x evaluation time) per time."""
    stats_rows: Counter[tuple[int, str]]
    """Rows (one per window) per evaluation time and series."""
    metadata: Counter[int]
    forecasts: Counter[int]
    scores: Counter[int]
    forecast_series: dict[str, set[int]]
    """Series id -> times of its forecasts."""
    forecast_keys: list[SeriesKey]
    """Name and labels of every forecast series."""


def read_stored(url: str) -> Stored:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as db:
            runs = [dict(r._mapping) for r in db.execute(sa.select(tables.etl_runs))]
            ws = tables.window_stats
            keys = (ws.c.at, ws.c.series_id)
            query = sa.select(*keys, sa.func.count()).group_by(*keys)
            rows = Counter({(at, sid): n for at, sid, n in db.execute(query)})

            def per(column: sa.Column[int]) -> Counter[int]:
                query = sa.select(column, sa.func.count()).group_by(column)
                return Counter({t: n for t, n in db.execute(query)})

            fc = tables.forecasts
            forecast_series: dict[str, set[int]] = {}
            for sid, made_at in db.execute(sa.select(fc.c.series_id, fc.c.made_at)):
                forecast_series.setdefault(sid, set()).add(made_at)
            series = tables.series
            named = sa.select(series.c.name, series.c.labels).where(
                series.c.id.in_(list(forecast_series))
            )
            forecast_keys = [
                SeriesKey.of(name, json.loads(labels))
                for name, labels in db.execute(named)
            ]
            return Stored(
                runs=runs,
                stats=Counter(at for at, _ in rows),
                stats_rows=rows,
                metadata=per(tables.series_metadata.c.computed_at),
                forecasts=per(fc.c.made_at),
                scores=per(tables.forecast_scores.c.scored_at),
                forecast_series=forecast_series,
                forecast_keys=forecast_keys,
            )
    finally:
        engine.dispose()


def _steps(run: dict[str, Any]) -> set[str]:
    return {step["step"] for step in json.loads(run["steps"])}


def check_nothing_lost(wiring: Wiring, prediction_made_at: str) -> None:
    """Every recorded run's results are stored, and nothing else is.

    A run publishes ``results_published`` results, all keyed by its start time
    (window statistics by ``at``, forecasts by ``made_at``, scores by
    ``scored_at``, metadata by ``computed_at``). The analysis cycle and the
    metadata thread publish different kinds, so even two runs starting in the
    same millisecond are told apart by kind: the check is exact per run.
    """
    stored = read_stored(wiring.database_url)
    assert {n for n in stored.stats_rows.values()} == {len(WINDOWS)}
    analysis = [r for r in stored.runs if "window_stats" in _steps(r)]
    metadata = [r for r in stored.runs if "metadata" in _steps(r)]
    assert len(analysis) >= 2 and metadata, stored.runs
    assert len(analysis) + len(metadata) == len(stored.runs)
    wrong = []
    for run in analysis:
        t = run["started_at"]
        held = stored.stats[t] + stored.forecasts[t] + stored.scores[t]
        if held != run["results_published"]:
            wrong.append((run["run_id"], run["results_published"], held))
    for run in metadata:
        held = stored.metadata[run["started_at"]]
        if held != run["results_published"]:
            wrong.append((run["run_id"], run["results_published"], held))
    assert not wrong, f"(run, published, stored) differ: {wrong}\n{wiring.logs()}"
    starts = {r["started_at"] for r in analysis}
    assert set(stored.stats) | set(stored.forecasts) | set(stored.scores) <= starts
    assert set(stored.metadata) <= {r["started_at"] for r in metadata}
    total = sum(r["results_published"] for r in stored.runs)
    kinds = (stored.stats, stored.metadata, stored.forecasts, stored.scores)
    assert total == sum(sum(kind.values()) for kind in kinds)
    summary = wiring.summary()
    if summary:  # all-in-one: every message it stored, the run records too
        assert summary == f"stopped; {total + len(stored.runs)} results stored"
    check_forecast_set(stored, prediction_made_at)


def check_forecast_set(stored: Stored, prediction_made_at: str) -> None:
    """Only series an SLA objective selects were forecast (the ETL's own
    selectors are "none"), both that exist were, and ``predict`` used a stored
    forecast."""
    document = yaml.safe_load(EXAMPLE.read_text())
    selectors = [parse_selector(o["selector"]) for o in document["objectives"]]
    outside = [
        key
        for key in stored.forecast_keys
        if not any(s.matches(key.name, key.label_map) for s in selectors)
    ]
    assert not outside, f"forecast outside the SLA set: {outside}"
    load = SeriesKey.of("node_load1", NODE).id
    memory = SeriesKey.of("node_memory_MemAvailable_bytes", NODE).id
    assert {load, memory} <= set(stored.forecast_series)
    assert len(stored.forecast_keys) == len(stored.forecast_series)
    made_at = milliseconds(moment(prediction_made_at))
    assert made_at in stored.forecast_series[load], (
        f"predict used a forecast made at {prediction_made_at}, which is not stored"
    )


# --- the test -----------------------------------------------------------------


def test_the_same_end_to_end_expectations_hold(
    wiring: Wiring, prometheus_url: str
) -> None:
    check_sla_applied(wiring)
    _, values = check_rest(wiring, prometheus_url)
    check_values_equal_prometheus(prometheus_url, values)
    made_at = check_grpc(wiring)
    check_stopped(wiring)
    check_nothing_lost(wiring, made_at)
