"""Every result type is declared once and every edge has an entry for it."""

import typing
from datetime import UTC, datetime
from importlib import resources

import pytest

from adapters.in_memory.result_store import KEPT
from adapters.kafka import wire
from adapters.kafka.codec import DATA, encode
from adapters.kafka.decoding import CHECKED, FAST
from adapters.sql import tables
from adapters.sql.batch import STORED, stored
from monitoring_core.results import RESULT_TYPES, TAGS, Result, result_type
from monitoring_core.runs import EtlRun
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats


def test_the_registry_declares_each_member_of_the_result_union_once() -> None:
    assert [t.cls for t in RESULT_TYPES] == list(typing.get_args(Result))
    assert len(set(TAGS)) == len(TAGS)


@pytest.mark.parametrize("tag", TAGS)
def test_every_declared_type_has_a_history_table_the_store_writes_and_prunes(
    tag: str,
) -> None:
    table, _ = stored(tag)
    assert table in tables.HISTORY


@pytest.mark.parametrize(
    ("edge", "table"), [("sql batch", STORED), ("in-memory store", KEPT)]
)
def test_storing_tables_name_only_declared_tags(
    edge: str, table: dict[str, object]
) -> None:
    assert set(table) <= set(TAGS), edge


@pytest.mark.parametrize(
    ("edge", "table"),
    [
        ("kafka encoding", DATA),
        ("kafka checked decoding", CHECKED),
        ("kafka fast decoding", FAST),
        ("kafka wire structs", wire.TYPES),
    ],
)
def test_kafka_tables_name_only_declared_tags(
    edge: str, table: dict[str, object]
) -> None:
    assert set(table) <= set(TAGS), edge


def test_the_fast_path_has_a_wire_struct_for_each_type_it_builds() -> None:
    assert sorted(FAST) == sorted(wire.TYPES)


def test_every_declared_tag_has_a_published_json_schema() -> None:
    schemas = resources.files("adapters.kafka.schemas")
    missing = [t for t in TAGS if not schemas.joinpath(f"{t}.json").is_file()]
    assert missing == []


def test_a_result_is_keyed_on_the_topic_by_its_series_or_its_run_id() -> None:
    at = datetime(2026, 12, 4, 12, tzinfo=UTC)
    key = SeriesKey.of("up", {"job": "node"})
    nothing = dict.fromkeys(("min", "max", "avg", "stddev", "last"))
    empty = WindowStats(window_seconds=60, count=0, **nothing)
    stats = SeriesWindowStats(
        series=key, kind=MetricKind.GAUGE, at=at, windows=(empty,)
    )
    run = EtlRun(
        run_id="run-1",
        started_at=at,
        finished_at=at,
        ok=True,
        steps=(),
        series_count=0,
        results_published=0,
    )
    assert encode(stats, at)[:1] == (key.id,)
    assert encode(run, at)[0] == "run-1"
    assert encode(run, at)[1]["series"] is None
    assert result_type(stats).tag == encode(stats, at)[1]["type"] == "window_stats"
