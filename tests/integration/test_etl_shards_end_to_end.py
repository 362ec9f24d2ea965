"""Sharded ETL run records through the real chain (ADR 0058): on the Kafka topic,
into MariaDB by ``monitoring storage``, out of ``monitoring api`` as
``GET /v1/etl/shards``, and printed by ``monitoring etl-shards``."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import attrs

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.result_publisher import ensure_topic
from adapters.sql import migrate
from adapters.sql.result_store import sql_store
from monitoring_core.runs import EtlRun
from tests.integration.test_api_schemathesis import running_api
from tests.integration.test_storage_service import _produce
from tests.support import factories
from tests.support.databases import throwaway_database
from tests.support.storage import running_storage, storage_env, wait_until_stored

TOKEN = "shards-token"


def _cycle(
    run_id: str, ended: datetime, worker: str, shards: tuple[int, ...], ok: bool
) -> EtlRun:
    return attrs.evolve(
        factories.sharded_etl_run(),
        run_id=run_id,
        started_at=ended - timedelta(seconds=40),
        finished_at=ended,
        ok=ok,
        worker=worker,
        shards=shards,
    )


def _etl_shards(base: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apps.cli", "etl-shards", "--api", base, *args],
        env={**os.environ, "MONITORING_API_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stored_sharded_runs_are_reported_by_the_api_and_the_cli(
    kafka_bootstrap: str, kafka_topic: str, database_url: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    runs = [
        _cycle("w1-a", now - timedelta(minutes=12), "etl-1", tuple(range(0, 32)), True),
        _cycle(
            "w2-a", now - timedelta(minutes=11), "etl-2", tuple(range(32, 64)), True
        ),
        # etl-2 took 30-31 over and failed its next cycle
        _cycle(
            "w2-b", now - timedelta(minutes=2), "etl-2", tuple(range(30, 64)), False
        ),
        factories.etl_run(),  # an older ETL's record: no worker, no shards
    ]
    ensure_topic(kafka_bootstrap, kafka_topic, 2)
    _produce(kafka_bootstrap, kafka_topic, [to_bytes(encode(r, now)[1]) for r in runs])
    with throwaway_database(database_url) as url:
        migrate.upgrade(url)
        env = storage_env(kafka_bootstrap, kafka_topic, url)
        with running_storage(env):
            wait_until_stored(
                kafka_bootstrap, kafka_topic, env["MONITORING_KAFKA_GROUP"]
            )
        with sql_store(url) as store:
            stored = {r.run_id: r for r in store.etl_runs(10)}
        assert stored == {r.run_id: r for r in runs}
        with running_api(url, {"MONITORING_API_TOKEN": TOKEN}) as base:
            table = _etl_shards(base)
            answer = _etl_shards(base, "-o", "json", "--since", "1h")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("64 shards (runs), 3 runs since ")
    assert [line.split() for line in lines[3:5]] == [
        ["etl-1", "30", "0-29"],
        ["etl-2", "34", "30-63"],
    ]
    body = json.loads(answer.stdout)
    shards = body["shards"]
    ok_end = (now - timedelta(minutes=12)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert shards[30]["worker"] == "etl-2" and shards[30]["last_run_id"] == "w2-b"
    assert shards[30]["last_analysed_at"] == ok_end  # etl-1's, the last good one
    assert 600 < shards[30]["age_seconds"] < 900
    assert shards[40]["last_run_id"] == "w2-b" and shards[40]["worker"] == "etl-2"
