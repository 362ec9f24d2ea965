"""Issue 14, acceptance 5: kill -9 the ETL and the SLA manager, and the
prediction scores and the forecast set are intact afterwards (ADR 0047).

Real processes on the local Prometheus (node-exporter scraped every 5 s), a real
Kafka topic, SQLite files:

- the ETL, asking a real SLA manager for its SLA set (only the SLA set is
  forecast), is killed with SIGKILL together with the SLA manager; restarted
  alone, it scores the forecasts its predecessor left pending (their scores are
  published) and keeps forecasting the SLA series although nobody can tell it
  the set any more;
- the SLA manager is killed with SIGKILL after scoring predictions it recorded;
  restarted, it gives the same scores over gRPC and has the same SLA set.
"""

import contextlib
import json
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.sql.etl_state import SqliteEtlState, open_etl_state
from adapters.sql.result_store import sql_store
from monitoring_core.forecasts import Forecast, ForecastPoint
from monitoring_core.series import SeriesKey
from tests.support.grpc import free_port, monitoring_command
from tests.support.processes import (
    Service,
    base_environment,
    eventually,
    logs_of,
    start_service,
    wait_for_grpc,
)
from tests.support.servers import server
from tests.support.topics import Topic

LOAD = SeriesKey.of("node_load1", {"instance": "127.0.0.1:19100", "job": "node"})
STEP = 5
DEADLINE = 90.0
SLA_FILE = """\
name: restart-check
objectives:
  - selector: 'node_load1{job="node"}'
    lo: 0.0
    hi: 1000.0
    target: 0.9
    window: 2m
    slice: 10s
"""


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    with server("PROMETHEUS_URL") as url:
        yield url


def _sla_manager(folder: Path, prometheus: str, grpc_port: int) -> Service:
    env = {
        "MONITORING_PROMETHEUS_URL": prometheus,
        "MONITORING_DATABASE_URL": f"sqlite:///{folder / 'sla.db'}",
        "MONITORING_GRPC_PORT": str(grpc_port),
        "MONITORING_SLA_METRICS_PORT": "0",
        "MONITORING_LOG_LEVEL": "INFO",
    }
    name = f"sla-manager-{uuid.uuid4().hex[:6]}"
    service = start_service(name, ["sla-manager"], env, folder)
    wait_for_grpc(f"127.0.0.1:{grpc_port}", service)
    return service


def _sla(grpc: str, *args: str) -> Any:
    """``monitoring sla --output json ARGS``; it must succeed."""
    done = subprocess.run(
        [monitoring_command(), "sla", "--output", "json", *args],
        env={**base_environment(), "MONITORING_SLA_ADDRESS": grpc},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"monitoring sla {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else None


def _apply(grpc: str, folder: Path) -> None:
    path = folder / "sla.yaml"
    path.write_text(SLA_FILE)
    done = subprocess.run(
        [monitoring_command(), "sla", "apply", "-f", str(path)],
        env={**base_environment(), "MONITORING_SLA_ADDRESS": grpc},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _etl_env(
    prometheus: str, kafka: str, topic: str, grpc: str, state: Path
) -> dict[str, str]:
    return {
        "MONITORING_PROMETHEUS_URL": prometheus,
        "MONITORING_KAFKA_BOOTSTRAP": kafka,
        "MONITORING_KAFKA_TOPIC": topic,
        "MONITORING_KAFKA_FLUSH_SECONDS": "5",
        "MONITORING_SERIES_SELECTORS": 'node_load1{job="node"}',
        "MONITORING_FORECAST_SELECTORS": "none",  # only the SLA set
        "MONITORING_WINDOWS": "1m",
        "MONITORING_CYCLE_SECONDS": "2",
        "MONITORING_FORECAST_STEP": f"{STEP}s",
        "MONITORING_FORECAST_HORIZON": "10s",
        "MONITORING_FORECAST_LOOKBACK": "10m",
        "MONITORING_METADATA_LOOKBACK": "10m",
        "MONITORING_METADATA_STEP": "15s",
        "MONITORING_ETL_METRICS_PORT": "0",
        "MONITORING_SLA_ADDRESS": grpc,
        "MONITORING_ETL_STATE_PATH": str(state),
        "MONITORING_LOG_LEVEL": "INFO",
    }


def _kill(service: Service) -> None:
    """SIGKILL, and wait until it is gone."""
    service.signal(signal.SIGKILL)
    assert service.wait(10) == -signal.SIGKILL, service.tail()


@pytest.fixture
def topics() -> Iterator[list[Topic]]:
    """Every topic a test reads; dropped at teardown."""
    opened: list[Topic] = []
    yield opened
    for topic in opened:
        topic.close()


def _until(
    check: Callable[[], Any],
    what: str,
    watched: list[Service],
    timeout: float = DEADLINE,
) -> Any:
    return eventually(check, timeout=timeout, what=what, services=watched)


def test_a_killed_etl_scores_pending_forecasts_and_forecasts_the_sla_set(
    tmp_path: Path,
    prometheus_url: str,
    kafka_bootstrap: str,
    services: list[Service],
    topics: list[Topic],
) -> None:
    grpc_port = free_port()
    grpc = f"127.0.0.1:{grpc_port}"
    state = tmp_path / "state" / "etl.sqlite"
    manager = _sla_manager(tmp_path, prometheus_url, grpc_port)
    services.append(manager)
    _apply(grpc, tmp_path)
    before = Topic(kafka_bootstrap, f"restart-{uuid.uuid4().hex[:10]}")
    topics.append(before)
    env = _etl_env(prometheus_url, kafka_bootstrap, before.name, grpc, state)
    first = start_service("etl-first", ["etl"], env, tmp_path)
    services.append(first)

    def forecast_then_score() -> None:
        assert any(m["series"]["id"] == LOAD.id for m in before.of_type("forecast"))
        # A score proves a cycle ran after forecasts were made: some are pending.
        assert before.of_type("forecast_score"), "no forecast scored yet"

    _until(forecast_then_score, "the first ETL forecasting the SLA set", services)
    _kill(manager)  # the SLA set can no longer be asked for
    _kill(first)
    killed_at = datetime.now().astimezone()
    with _opened(state) as kept:
        pending = {(f.series.id, f.made_at) for f in kept.pending_forecasts()}
        saved = kept.forecast_targets()
    assert {series for series, _ in pending} == {LOAD.id}
    assert saved is not None and [s.to_promql() for s in saved] == [
        'node_load1{job="node"}'
    ]

    after = Topic(kafka_bootstrap, f"restart-{uuid.uuid4().hex[:10]}")
    topics.append(after)
    restarted_env = {**env, "MONITORING_KAFKA_TOPIC": after.name}
    second = start_service("etl-second", ["etl"], restarted_env, tmp_path)
    services.append(second)

    def old_forecasts_scored_and_new_ones_made() -> None:
        scored = {
            (m["series"]["id"], _moment(m["data"]["forecast_made_at"]))
            for m in after.of_type("forecast_score")
        }
        inherited = {key for key in scored if any(_same(key, p) for p in pending)}
        assert inherited, f"none of {len(pending)} pending forecasts scored: {scored}"
        made = [
            _moment(m["data"]["made_at"])
            for m in after.of_type("forecast")
            if m["series"]["id"] == LOAD.id
        ]
        assert any(t > killed_at for t in made), "the SLA series is not forecast"

    _until(old_forecasts_scored_and_new_ones_made, "the restarted ETL", [second])
    log = second.stderr.read_text()
    assert "pending forecasts loaded from the ETL state" in log, logs_of([second])
    assert "saved forecast targets loaded" in log
    # It did try the SLA manager, which is down, and fell back on the saved set.
    assert "forecast targets unavailable, using the last ones" in log


def _same(a: tuple[str, datetime], b: tuple[str, datetime]) -> bool:
    """The same forecast; the topic carries times to the millisecond."""
    return a[0] == b[0] and abs(a[1] - b[1]) < timedelta(milliseconds=1)


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[SqliteEtlState]:
    """The state file, opened after the process that wrote it was killed."""
    store = open_etl_state(path)
    try:
        yield store
    finally:
        store.close()


def _seed_forecast(database_url: str) -> None:
    """A forecast of the load for the next five minutes, stored as the storage
    service stores the ETL's (the SLA manager predicts from stored forecasts)."""
    now = time.time()
    made = now - now % STEP
    points = tuple(
        ForecastPoint(
            timestamp=made + STEP * k,
            mean=0.5,
            lower_80=0.2,
            upper_80=0.8,
            lower_95=0.0,
            upper_95=1.1,
        )
        for k in range(1, 61)
    )
    forecast = Forecast(
        series=LOAD,
        made_at=datetime.fromtimestamp(made).astimezone(),
        step_seconds=STEP,
        model="naive",
        holdout_mae=0.1,
        points=points,
    )
    with sql_store(database_url) as store:
        store.write([forecast])


def _prediction_rows(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                sa.text(
                    "SELECT COUNT(*) FROM sla_predictions WHERE sla = 'restart-check'"
                )
            ).scalar()
            return int(count or 0)
    finally:
        engine.dispose()


def test_a_killed_sla_manager_keeps_its_prediction_scores_and_sla_set(
    tmp_path: Path, prometheus_url: str, services: list[Service]
) -> None:
    grpc_port = free_port()
    grpc = f"127.0.0.1:{grpc_port}"
    database = f"sqlite:///{tmp_path / 'sla.db'}"
    manager = _sla_manager(tmp_path, prometheus_url, grpc_port)
    services.append(manager)
    _apply(grpc, tmp_path)
    _seed_forecast(database)
    report = _sla(grpc, "predict", "restart-check", "--horizon", "10s")
    assert report, "no prediction"
    recorded = _prediction_rows(database)
    assert recorded >= 1

    def scored() -> Any:
        scores = _sla(grpc, "score", "restart-check")
        (objective,) = scores["objectives"]
        assert int(objective["score"].get("predictions", 0)) >= 1, scores
        return scores

    # Due once their last slice has ended: within 10 s + one slice.
    scores_before = _until(scored, "predictions coming due", services, timeout=60)
    sla_before = _sla(grpc, "get", "restart-check")
    _kill(manager)

    restarted = _sla_manager(tmp_path, prometheus_url, grpc_port)
    services.append(restarted)
    assert _sla(grpc, "get", "restart-check") == sla_before
    assert [s["name"] for s in _sla(grpc, "list")] == ["restart-check"]
    scores_after = _sla(grpc, "score", "restart-check")
    # The same scores of the same predictions; only the time of asking moved.
    assert scores_after.pop("at") > scores_before.pop("at")
    assert scores_after == scores_before
    assert _prediction_rows(database) >= recorded
