"""Issue #5, criterion 4: whatever is wrong in a request, the gRPC SLA manager
answers INVALID_ARGUMENT naming the wrong field, and stores nothing.

A real server on a free loopback port, the SQL repository on a fresh SQLite
file, an in-memory metric source with a few series; the ``slas`` table is
dumped before and after every refused call. A valid SLA is stored first, so
"unchanged" means something, and every objective-level mistake is tried both
in a new SLA and hidden among good objectives in an update of the stored one.
"""

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import grpc
import pytest
from sqlalchemy.engine import Engine

from adapters.grpc.client import SlaCallError, SlaClient
from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.grpc.server import SlaServer, start_server
from adapters.grpc.service import MAX_REQUEST_BYTES
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.sla_repository import SqlSlaRepository
from monitoring_core.durations import parse_duration
from monitoring_core.series import SeriesKey
from monitoring_core.sla import Sla, SlaLimits
from tests.support.sla_services import sla_services

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MAX_OBJECTIVES = 4
INVALID = grpc.StatusCode.INVALID_ARGUMENT

LOAD_DB = SeriesKey.of("node_load1", {"instance": "db-1:9100", "job": "node"})
LOAD_WEB = SeriesKey.of("node_load1", {"instance": "web-1:9100", "job": "node"})
LOAD_OTHER_JOB = SeriesKey.of("node_load1", {"instance": "db-1:9100", "job": "db"})
MEMORY = SeriesKey.of(
    "node_memory_MemAvailable_bytes", {"instance": "db-1:9100", "job": "node"}
)
STALE = SeriesKey.of("node_stale", {"instance": "db-1:9100", "job": "node"})
"""Has samples five hours ago only: outside a 1h window, inside a 12h one."""


def objective(**fields: Any) -> pb.Objective:
    """A valid two-sided objective on node_load1 unless ``fields`` say otherwise."""
    values: dict[str, Any] = {
        "selector": 'node_load1{job="node"}',
        "lo": 0.0,
        "hi": 4.0,
        "target": 0.99,
        "window": "1h",
        "slice": "1m",
    }
    values.update(fields)
    return pb.Objective(**{k: v for k, v in values.items() if v is not None})


GOOD_LOAD = objective()
GOOD_MEMORY = objective(
    selector='node_memory_MemAvailable_bytes{job="node"}',
    lo=268435456.0,
    hi=None,
    target=0.995,
    slice="",
)
BASE = pb.Sla(
    name="base",
    description="stored before every test",
    objectives=[GOOD_LOAD, GOOD_MEMORY],
)

# Objective-level mistakes: (id, the objective, the field wrong in it).
BAD_OBJECTIVES = [
    ("nan-lo", objective(lo=math.nan), "lo"),
    ("nan-hi", objective(hi=math.nan), "hi"),
    ("plus-inf-hi", objective(hi=math.inf), "hi"),
    ("minus-inf-lo", objective(lo=-math.inf, hi=None), "lo"),
    ("lo-above-hi", objective(lo=5.0, hi=1.0), "lo"),
    ("no-bound", objective(lo=None, hi=None), "lo"),
    ("target-0", objective(target=0.0), "target"),
    ("target-1", objective(target=1.0), "target"),
    ("target-1.5", objective(target=1.5), "target"),
    ("target-negative", objective(target=-0.5), "target"),
    ("target-nan", objective(target=math.nan), "target"),
    ("target-inf", objective(target=math.inf), "target"),
    ("selector-unclosed", objective(selector='node_load1{job="node"'), "selector"),
    ("selector-unquoted", objective(selector="node_load1{job=node}"), "selector"),
    ("selector-empty", objective(selector=""), "selector"),
    ("selector-promql-function", objective(selector="rate(x[5m])"), "selector"),
    ("selector-regex", objective(selector='node_load1{job=~"no.*"}'), "selector"),
    ("selector-not-equal", objective(selector='node_load1{job!="db"}'), "selector"),
    ("selector-regex-name", objective(selector='{__name__=~"node_.*"}'), "selector"),
    ("selector-no-metric-name", objective(selector='{job="node"}'), "selector"),
    (
        "selector-too-long",
        objective(selector='node_load1{job="' + "n" * 1100 + '"}'),
        "selector",
    ),
    ("selector-no-series", objective(selector='node_load1{job="web"}'), "selector"),
    ("selector-unknown-metric", objective(selector="node_load15"), "selector"),
    ("selector-stale-series", objective(selector="node_stale"), "selector"),
    ("window-missing", objective(window=""), "window"),
    ("window-no-unit", objective(window="3600"), "window"),
    ("window-bad-unit", objective(window="12x"), "window"),
    ("window-fraction", objective(window="1.5h"), "window"),
    ("window-negative", objective(window="-1h"), "window"),
    ("window-zero", objective(window="0s"), "window"),
    ("window-beyond-limit", objective(window="36d"), "window"),
    ("window-not-whole-slices", objective(window="1h", slice="7m"), "window"),
    ("slice-bad", objective(slice="abc"), "slice"),
    ("slice-zero", objective(slice="0s"), "slice"),
    ("slice-below-limit", objective(slice="5s"), "slice"),
    ("slice-above-limit", objective(window="4h", slice="2h"), "slice"),
    ("slice-too-many-per-window", objective(window="35d", slice="10s"), "slice"),
]

# SLA-level mistakes: (id, the SLA, the wrong field). Those with a valid name
# use the stored SLA's, so they are update attempts.
BAD_SLAS = [
    ("name-empty", pb.Sla(name="", objectives=[GOOD_LOAD]), "name"),
    ("name-too-long", pb.Sla(name="a" * 64, objectives=[GOOD_LOAD]), "name"),
    ("name-upper-case", pb.Sla(name="Base", objectives=[GOOD_LOAD]), "name"),
    ("name-space", pb.Sla(name="node health", objectives=[GOOD_LOAD]), "name"),
    ("name-slash", pb.Sla(name="node/health", objectives=[GOOD_LOAD]), "name"),
    ("name-leading-dash", pb.Sla(name="-base", objectives=[GOOD_LOAD]), "name"),
    ("name-trailing-dot", pb.Sla(name="base.", objectives=[GOOD_LOAD]), "name"),
    ("name-non-ascii", pb.Sla(name="bäse", objectives=[GOOD_LOAD]), "name"),
    (
        "description-too-long",
        pb.Sla(name="base", description="d" * 1025, objectives=[GOOD_LOAD]),
        "description",
    ),
    ("no-objectives", pb.Sla(name="base", objectives=[]), "objectives"),
    (
        "more-objectives-than-the-limit",
        pb.Sla(
            name="base",
            objectives=[objective(hi=4.0 + i) for i in range(MAX_OBJECTIVES + 1)],
        ),
        "objectives",
    ),
    (
        "duplicate-objectives",
        pb.Sla(name="base", objectives=[GOOD_LOAD, GOOD_MEMORY, GOOD_LOAD]),
        "objectives[2]",
    ),
    (
        "duplicate-differing-only-in-target",
        pb.Sla(name="base", objectives=[GOOD_LOAD, objective(target=0.9)]),
        "objectives[1]",
    ),
    (
        "duplicate-written-differently",
        pb.Sla(
            name="base",
            objectives=[
                objective(selector='node_load1{instance="db-1:9100",job="node"}'),
                objective(
                    selector='{job="node",__name__="node_load1",instance="db-1:9100"}',
                    window="60m",
                ),
            ],
        ),
        "objectives[1]",
    ),
    (
        "request-too-big-by-one-selector",
        pb.Sla(
            name="base",
            objectives=[objective(selector='x{a="' + "y" * MAX_REQUEST_BYTES + '"}')],
        ),
        "request",
    ),
    (
        "request-too-big-by-many-objectives",
        pb.Sla(
            name="base",
            objectives=[
                objective(selector=f'node_load1{{job="node",n="{i:0>40}"}}')
                for i in range(4000)
            ],
        ),
        "request",
    ),
]


@attrs.frozen
class Rig:
    """A server on a fresh database, a client of it, and the database itself."""

    client: SlaClient
    engine: Engine
    clock: FixedClock
    server: SlaServer

    def dump(self) -> list[tuple[Any, ...]]:
        """Every row and column of the ``slas`` table, in order."""
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT * FROM slas ORDER BY name").all()
        return [tuple(row) for row in rows]

    def refused(self, call: Any, *args: Any, **kwargs: Any) -> SlaCallError:
        """Call, expecting a refusal; the table must not have changed."""
        before = self.dump()
        with pytest.raises(SlaCallError) as caught:
            call(*args, **kwargs)
        assert self.dump() == before
        return caught.value


def _source() -> InMemoryMetricSource:
    source = InMemoryMetricSource()
    now = NOW.timestamp()
    minutes = range(1, 181)
    for key in (LOAD_DB, LOAD_WEB, LOAD_OTHER_JOB):
        source.add(key, [(now - 60 * m, 1.0 + m % 3) for m in minutes])
    source.add(MEMORY, [(now - 60 * m, 2e9) for m in minutes])
    source.add(STALE, [(now - 5 * 3600 + 60 * m, 1.0) for m in range(10)])
    return source


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    url = f"sqlite:///{tmp_path / 'sla.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    clock = FixedClock(NOW)
    source = _source()
    manager = sla_services(
        SqlSlaRepository(engine, clock),
        source,
        source,
        InMemoryResultStore(),
        clock,
        limits=SlaLimits(max_objectives=MAX_OBJECTIVES),
    )
    server = start_server(manager.servicer(clock), "127.0.0.1:0")
    client = SlaClient(f"127.0.0.1:{server.port}", timeout_seconds=20)
    stored = client.apply(BASE)
    assert stored.changed and stored.sla.version == 1
    try:
        yield Rig(client=client, engine=engine, clock=clock, server=server)
    finally:
        client.close()
        server.stop(0)
        engine.dispose()


def _invalid(error: SlaCallError, field: str) -> None:
    assert error.code is INVALID, error
    assert set(error.fields) == {field}, error
    assert error.fields[field], "every field comes with a reason"
    assert field in str(error)


def test_the_stored_sla_is_the_one_applied(rig: Rig) -> None:
    stored = rig.client.get("base")
    assert stored.version == 1
    assert [o.selector for o in stored.objectives] == [
        o.selector for o in BASE.objectives
    ]
    assert stored.objectives[1].slice == "1m" and not stored.objectives[1].HasField(
        "hi"
    )
    [row] = rig.dump()
    assert row[:2] == ("base", 1)


@pytest.mark.parametrize(
    ("bad", "field"),
    [pytest.param(o, f, id=i) for i, o, f in BAD_OBJECTIVES],
)
def test_a_bad_objective_in_a_new_sla_is_refused(
    rig: Rig, bad: pb.Objective, field: str
) -> None:
    sla = pb.Sla(name="fresh", objectives=[bad])
    _invalid(rig.refused(rig.client.apply, sla), f"objectives[0].{field}")
    with pytest.raises(SlaCallError) as caught:
        rig.client.get("fresh")
    assert caught.value.code is grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("bad", "field"),
    [pytest.param(o, f, id=i) for i, o, f in BAD_OBJECTIVES],
)
def test_one_bad_objective_among_good_ones_leaves_the_stored_sla_alone(
    rig: Rig, bad: pb.Objective, field: str
) -> None:
    update = pb.Sla(
        name="base",
        description="a changed description that must not be stored either",
        objectives=[GOOD_LOAD, bad, GOOD_MEMORY],
    )
    _invalid(rig.refused(rig.client.apply, update), f"objectives[1].{field}")
    stored = rig.client.get("base")
    assert stored.version == 1
    assert stored.description == BASE.description
    assert len(stored.objectives) == 2


@pytest.mark.parametrize(
    ("sla", "field"),
    [pytest.param(s, f, id=i) for i, s, f in BAD_SLAS],
)
def test_a_bad_sla_is_refused(rig: Rig, sla: pb.Sla, field: str) -> None:
    _invalid(rig.refused(rig.client.apply, sla), field)
    assert rig.client.get("base").version == 1


def test_the_request_size_limit_is_checked_before_anything_else(rig: Rig) -> None:
    sla = pb.Sla(name="Not A Name", description="d" * (MAX_REQUEST_BYTES + 1))
    error = rig.refused(rig.client.apply, sla)
    _invalid(error, "request")
    assert str(MAX_REQUEST_BYTES) in error.fields["request"]


def test_a_duplicate_names_the_objective_it_repeats(rig: Rig) -> None:
    sla = pb.Sla(name="base", objectives=[GOOD_MEMORY, GOOD_LOAD, GOOD_LOAD])
    error = rig.refused(rig.client.apply, sla)
    _invalid(error, "objectives[2]")
    assert "objectives[1]" in error.fields["objectives[2]"]


def test_every_wrong_field_is_reported_at_once(rig: Rig) -> None:
    sla = pb.Sla(
        name="Base!",
        objectives=[
            objective(hi=math.inf, target=1.0),
            GOOD_MEMORY,
            objective(selector='node_load1{job=~"x"}', window="7x", slice="1s"),
        ],
    )
    error = rig.refused(rig.client.apply, sla)
    assert error.code is INVALID
    assert set(error.fields) == {
        "name",
        "objectives[0].hi",
        "objectives[0].target",
        "objectives[2].selector",
        "objectives[2].window",
        "objectives[2].slice",
    }


def test_unmatched_selectors_are_all_named(rig: Rig) -> None:
    sla = pb.Sla(
        name="fresh",
        objectives=[
            objective(selector='node_load1{job="web"}'),
            GOOD_MEMORY,
            objective(selector="node_stale"),
        ],
    )
    error = rig.refused(rig.client.apply, sla)
    assert error.code is INVALID
    assert set(error.fields) == {"objectives[0].selector", "objectives[2].selector"}
    assert "allow_pending" in error.fields["objectives[0].selector"]


def test_a_selector_matching_no_series_is_accepted_when_pending_is_allowed(
    rig: Rig,
) -> None:
    pending = objective(selector='node_load1{job="web"}', allow_pending=True)
    before = rig.dump()
    created = rig.client.apply(pb.Sla(name="fresh", objectives=[pending]))
    assert created.changed and created.sla.version == 1
    assert created.sla.objectives[0].allow_pending
    after = rig.dump()
    assert [r[0] for r in after] == ["base", "fresh"]
    assert after[0] == before[0]

    update = pb.Sla(
        name="base",
        description=BASE.description,
        objectives=[GOOD_LOAD, GOOD_MEMORY, pending],
    )
    updated = rig.client.apply(update)
    assert updated.changed and updated.sla.version == 2
    assert rig.client.get("base").objectives[2].selector == 'node_load1{job="web"}'


def test_a_stale_series_counts_within_a_longer_window(rig: Rig) -> None:
    sla = pb.Sla(name="fresh", objectives=[objective(selector="node_stale")])
    sla.objectives[0].window = "12h"
    assert rig.client.apply(sla).changed


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("base", 7, id="update-at-the-wrong-version"),
        pytest.param("base", 0, id="create-what-exists"),
        pytest.param("fresh", 1, id="update-what-does-not-exist"),
    ],
)
def test_a_version_conflict_is_aborted_and_stores_nothing(
    rig: Rig, name: str, expected: int
) -> None:
    sla = pb.Sla(name=name, description="changed", objectives=[GOOD_LOAD])
    error = rig.refused(rig.client.apply, sla, expected)
    assert error.code is grpc.StatusCode.ABORTED, error
    assert error.fields == {}


def test_a_change_at_the_expected_version_is_stored(rig: Rig) -> None:
    rig.clock.advance(60)
    before = rig.dump()
    changed = pb.Sla(name="base", description="changed", objectives=[GOOD_LOAD])
    response = rig.client.apply(changed, expected_version=1)
    assert response.changed and response.sla.version == 2
    [row] = rig.dump()
    assert row != before[0] and row[:2] == ("base", 2)
    created = rig.client.apply(pb.Sla(name="fresh", objectives=[GOOD_LOAD]), 0)
    assert created.changed and created.sla.version == 1


def test_a_delete_at_the_wrong_version_is_aborted(rig: Rig) -> None:
    error = rig.refused(rig.client.delete, "base", 2)
    assert error.code is grpc.StatusCode.ABORTED, error
    rig.client.delete("base", 1)
    assert rig.dump() == []


@pytest.mark.parametrize(
    "same",
    [
        pytest.param(BASE, id="identical"),
        pytest.param(
            pb.Sla(
                name="base",
                description=BASE.description,
                objectives=[
                    objective(window="60m", slice=""),
                    objective(
                        selector='{__name__="node_memory_MemAvailable_bytes",job="node"}',
                        lo=268435456.0,
                        hi=None,
                        target=0.995,
                        window="3600s",
                    ),
                ],
            ),
            id="written-differently",
        ),
    ],
)
def test_re_applying_the_same_definition_changes_nothing(
    rig: Rig, same: pb.Sla
) -> None:
    first = rig.client.get("base")
    rig.clock.advance(600)
    before = rig.dump()
    again = rig.client.apply(same)
    assert not again.changed
    assert again.sla.version == 1
    assert again.sla.updated_at == first.updated_at
    assert rig.dump() == before
    checked = rig.client.apply(same, expected_version=1)
    assert not checked.changed and checked.sla.version == 1
    assert rig.dump() == before


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.delete("nothing"), id="delete"),
        pytest.param(lambda c: c.delete("nothing", 1), id="delete-at-a-version"),
        pytest.param(lambda c: c.get("nothing"), id="get"),
        pytest.param(lambda c: c.status("nothing"), id="status"),
        pytest.param(lambda c: c.violations("nothing"), id="violations"),
        pytest.param(lambda c: c.predict("nothing"), id="predict"),
    ],
)
def test_an_unknown_sla_is_not_found(rig: Rig, call: Any) -> None:
    error = rig.refused(call, rig.client)
    assert error.code is grpc.StatusCode.NOT_FOUND, error
    assert "nothing" in str(error)


@pytest.mark.parametrize(
    ("windows", "field"),
    [
        pytest.param(["abc"], "windows[0]", id="malformed"),
        pytest.param(["1h", ""], "windows[1]", id="empty"),
        pytest.param(["1h", "0s"], "windows[1]", id="zero"),
        pytest.param(["1h", "-1h"], "windows[1]", id="negative"),
        pytest.param(["1.5h"], "windows[0]", id="fraction"),
        pytest.param(["3600"], "windows[0]", id="no-unit"),
        pytest.param(["1h", "3h", "36d"], "windows[2]", id="beyond-the-limit"),
        pytest.param([f"{h}h" for h in range(1, 12)], "windows", id="too-many"),
    ],
)
def test_bad_violation_windows_are_invalid(
    rig: Rig, windows: list[str], field: str
) -> None:
    _invalid(rig.refused(rig.client.violations, "base", windows), field)


@pytest.mark.parametrize(
    ("window", "covered"),
    [("90s", "2m"), ("30s", "1m"), ("7m30s", "8m"), ("1h", "1h")],
)
def test_a_window_is_rounded_up_to_whole_slices(
    rig: Rig, window: str, covered: str
) -> None:
    report = rig.client.violations("base", [window])
    for objective in report.objectives:  # both have 1m slices
        [answered] = objective.windows
        assert answered.window == covered
        for series in answered.series:
            assert series.report.window == covered
            assert series.report.total_slices == parse_duration(covered) // 60


@pytest.mark.parametrize(
    "horizon",
    [
        pytest.param("abc", id="malformed"),
        pytest.param("0s", id="zero"),
        pytest.param("600", id="no-unit"),
        pytest.param("-10m", id="negative"),
        pytest.param("7h", id="beyond-the-limit"),
    ],
)
def test_a_bad_horizon_is_invalid(rig: Rig, horizon: str) -> None:
    _invalid(rig.refused(rig.client.predict, "base", horizon), "horizon")


def test_good_windows_and_horizon_are_answered(rig: Rig) -> None:
    report = rig.client.violations("base", ["1h", "3h"])
    load = report.objectives[0]
    assert [w.window for w in load.windows] == ["1h", "3h"]
    for window in load.windows:
        assert sorted(s.series.labels["instance"] for s in window.series) == [
            "db-1:9100",
            "web-1:9100",
        ]
        assert {s.series.labels["job"] for s in window.series} == {"node"}
    prediction = rig.client.predict("base", "30m")
    assert prediction.horizon == "30m"
    assert len(prediction.objectives) == 2


class _BrokenRepository(InMemorySlaRepository):
    def get(self, name: str) -> Sla | None:
        raise RuntimeError("secret internals")


def test_an_unexpected_failure_is_internal_and_tells_no_internals() -> None:
    clock = FixedClock(NOW)
    source = _source()
    manager = sla_services(
        _BrokenRepository(clock), source, source, InMemoryResultStore(), clock
    )
    server = start_server(manager.servicer(clock), "127.0.0.1:0")
    try:
        with (
            SlaClient(f"127.0.0.1:{server.port}") as client,
            pytest.raises(SlaCallError) as caught,
        ):
            client.get("base")
    finally:
        server.stop(0)
    assert caught.value.code is grpc.StatusCode.INTERNAL
    assert "secret" not in str(caught.value)
