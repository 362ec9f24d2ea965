"""``GET /v1/etl/shards``: each shard's worker and last analysis, from the runs
of a span, and the ETL runs' representation matching its OpenAPI schema."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest import openapi_schemas, shard_report
from adapters.rest.api import create_app
from monitoring_core.runs import EtlRun, Step, StepTiming
from tests.support import factories
from tests.unit.rest.test_openapi_document import _check

NOW = factories.NOW
ANALYSIS = (
    StepTiming(step=Step.DISCOVERY, seconds=0.5),
    StepTiming(step=Step.WINDOW_STATS, seconds=1.0),
)


def cycle(
    run_id: str,
    minutes_ago: float,
    worker: str | None,
    shards: tuple[int, ...] | None,
    ok: bool = True,
) -> EtlRun:
    end = NOW - timedelta(minutes=minutes_ago)
    return EtlRun(
        run_id=run_id,
        started_at=end - timedelta(seconds=30),
        finished_at=end,
        ok=ok,
        steps=ANALYSIS,
        series_count=10,
        results_published=20,
        worker=worker,
        shards=shards,
    )


@pytest.fixture
def store() -> InMemoryResultStore:
    return InMemoryResultStore()


@pytest.fixture
def client(store: InMemoryResultStore) -> testing.TestClient:
    return testing.TestClient(create_app(store, FixedClock(NOW), None))


def _at(minutes_ago: float) -> str:
    moment: datetime = NOW - timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_each_shard_has_its_latest_worker_and_last_good_analysis(
    store: InMemoryResultStore, client: testing.TestClient
) -> None:
    store.write(
        [
            cycle("a1", 20, "etl-a", (0, 1, 2, 3)),
            cycle("b1", 15, "etl-b", (4, 5, 6, 7)),
            cycle("a2", 10, "etl-a", (0, 1)),  # 2 and 3 moved to etl-b
            cycle("b2", 5, "etl-b", (2, 3, 4, 5, 6, 7), ok=False),
        ]
    )
    body = client.simulate_get("/v1/etl/shards").json
    assert (body["shard_count"], body["shard_count_from"]) == (8, "runs")
    assert (body["runs_read"], body["complete"]) == (4, True)
    got = {s["shard"]: s for s in body["shards"]}
    assert [got[s]["worker"] for s in range(8)] == ["etl-a"] * 2 + ["etl-b"] * 6
    assert got[0]["last_analysed_at"] == _at(10) and got[0]["last_run_id"] == "a2"
    assert got[0]["age_seconds"] == 600.0
    # etl-b's latest cycle failed: it owns 2 and 3, analysed last by etl-a
    assert got[2]["last_analysed_at"] == _at(20) and got[2]["last_run_id"] == "b2"
    assert got[4]["last_analysed_at"] == _at(15)
    assert body["workers"] == [
        {"worker": "etl-a", "ranges": "0-1", "shard_count": 2},
        {"worker": "etl-b", "ranges": "2-7", "shard_count": 6},
    ]


def test_runs_before_the_span_are_left_out(
    store: InMemoryResultStore, client: testing.TestClient
) -> None:
    store.write([cycle("old", 180, "etl-a", (0, 1)), cycle("new", 30, "etl-b", (1,))])
    body = client.simulate_get("/v1/etl/shards", params={"since": "1h"}).json
    assert body["since"] == _at(60) and body["runs_read"] == 1
    assert [(s["shard"], s["worker"]) for s in body["shards"]] == [
        (0, None),
        (1, "etl-b"),
    ]
    assert body["workers"][-1] == {"worker": None, "ranges": "0", "shard_count": 1}
    assert body["shards"][0]["last_analysed_at"] is None
    assert body["shards"][0]["age_seconds"] is None


def test_the_shard_count_is_asked_for_or_64_when_no_run_tells(
    store: InMemoryResultStore, client: testing.TestClient
) -> None:
    store.write([cycle("unsharded", 5, None, None), factories.etl_run()])
    body = client.simulate_get("/v1/etl/shards").json
    assert (body["shard_count"], body["shard_count_from"]) == (64, "default")
    assert body["workers"] == [{"worker": None, "ranges": "0-63", "shard_count": 64}]
    store.write([cycle("sharded", 4, "etl-a", (0, 1, 2))])
    asked = client.simulate_get("/v1/etl/shards", params={"shards": "16"}).json
    assert (asked["shard_count"], asked["shard_count_from"]) == (16, "parameter")
    assert asked["workers"][0] == {"worker": "etl-a", "ranges": "0-2", "shard_count": 3}


def test_a_span_with_more_runs_than_are_read_says_it_is_incomplete(
    store: InMemoryResultStore,
    client: testing.TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shard_report, "FIRST_READ", 2)
    monkeypatch.setattr(shard_report, "MOST_RUNS", 8)
    store.write([cycle(f"r{i}", i, "etl-a", (i % 3,)) for i in range(1, 13)])
    body = client.simulate_get("/v1/etl/shards").json
    assert (body["runs_read"], body["complete"]) == (8, False)
    # r1..r4 started within 5 minutes: the second read reaches r5 and stops
    few = client.simulate_get("/v1/etl/shards", params={"since": "5m"}).json
    assert (few["runs_read"], few["complete"]) == (4, True)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "8d"}, "since"),
        ({"since": "0s"}, "since"),
        ({"shards": "0"}, "shards"),
        ({"shards": "10001"}, "shards"),
        ({"shards": "many"}, "shards"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    client: testing.TestClient, query: dict[str, str], parameter: str
) -> None:
    answer = client.simulate_get("/v1/etl/shards", params=query)
    assert answer.status_code == 400
    assert answer.json["parameter"] == parameter


def test_a_store_outage_is_a_503(
    store: InMemoryResultStore, client: testing.TestClient
) -> None:
    store.available = False
    answer = client.simulate_get("/v1/etl/shards")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"


def test_the_answers_follow_the_openapi_document(
    store: InMemoryResultStore, client: testing.TestClient
) -> None:
    spec = client.simulate_get("/openapi.json").json
    store.write([cycle("a", 5, "etl-a", (0, 3)), factories.sharded_etl_run()])
    _check(spec, "/v1/etl/shards", client.simulate_get("/v1/etl/shards"))
    _check(spec, "/v1/etl/shards", client.simulate_get("/v1/etl/shards?since=x"))
    _check(spec, "/v1/etl/runs", client.simulate_get("/v1/etl/runs"))
    store.available = False
    _check(spec, "/v1/etl/shards", client.simulate_get("/v1/etl/shards"))


def _properties(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    return set(schema["properties"]), set(schema["required"])


def test_the_etl_run_schema_lists_exactly_what_the_representation_emits(
    store: InMemoryResultStore, client: testing.TestClient
) -> None:
    store.write([factories.sharded_etl_run(), factories.etl_run()])
    emitted = [set(r) for r in client.simulate_get("/v1/etl/runs").json["data"]]
    declared, required = _properties(openapi_schemas.SCHEMAS["EtlRun"])
    assert emitted == [declared, declared] and required == declared
    shards = client.simulate_get("/v1/etl/shards").json
    declared, required = _properties(openapi_schemas.SCHEMAS["EtlShards"])
    assert set(shards) == declared == required


class _CountingStore(InMemoryResultStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads: list[int] = []

    def etl_runs(self, limit: int) -> list[EtlRun]:
        self.reads.append(limit)
        return super().etl_runs(limit)


def test_a_day_of_steady_runs_is_read_in_two_store_calls() -> None:
    store = _CountingStore()
    store.write([cycle(f"r{i}", i / 2, "etl-a", (i % 64,)) for i in range(3000)])
    client = testing.TestClient(create_app(store, FixedClock(NOW), None))
    body = client.simulate_get("/v1/etl/shards").json
    assert (body["runs_read"], body["complete"]) == (2880, True)  # 24 h of 30 s
    assert len(store.reads) == 2 and store.reads[0] == shard_report.FIRST_READ
    assert 2880 < store.reads[1] < 2 * 2880
