"""Every result type of the registry round-trips through every edge (ADR 0028).

The example of each type is built from its attrs fields alone (a value derived
from each field's annotation), so a type added to ``RESULT_TYPES`` is covered
here without a test of its own: its message is encoded, valid against the
schema of its tag and decoded back equal (checked path, and fast path when the
type has one); it is stored in the in-memory store and in SQLite migrated to
head, where its rows are the example's values in the table its tag names, it is
read back where a read API exists, and both stores prune the same rows. Each
type has two examples: every optional field given, and every one None.
"""

import itertools
import json
import shutil
import types
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from adapters.in_memory.result_store import InMemoryResultStore
from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.decoding import FAST, _checked, decode, decode_fast
from adapters.sql.batch import STORED, stored
from adapters.sql.engine import make_engine
from adapters.sql.migrate import upgrade
from adapters.sql.result_store import SqlResultStore
from monitoring_core.forecasts import Forecast
from monitoring_core.ports import ResultQueries
from monitoring_core.results import BY_TAG, TAGS, Result
from monitoring_core.series import SeriesKey
from tests.support.schemas import validate

BASE = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


OPTIONAL = ("given", "absent")
"""The two examples of each type: every optional field (``X | None``) given
a value, or every one None (e.g. a forecast with and without its
distributions, as an older ETL or an older stored row has it)."""


def _value(annotation: Any, name: str, seed: Iterator[int], given: bool) -> Any:
    """A deterministic, non-trivial value of ``annotation``; every call takes
    the next number of ``seed``, so no two fields or elements are equal and
    numbers grow along a tuple (windows stay shortest first). Optional
    values are None unless ``given``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if not given and len(present) < len(args):
            next(seed)
            return None
        return _value(present[0], name, seed, given)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], name, seed, given) for _ in range(2))
        return tuple(_value(a, name, seed, given) for a in args)
    return _scalar(annotation, name, next(seed), seed, given)


def _scalar(
    annotation: Any, name: str, n: int, seed: Iterator[int], given: bool
) -> Any:
    if annotation is SeriesKey:
        return SeriesKey.of("node_load1", {"instance": f"db-{n}:9100", "job": "node"})
    if annotation is bool:
        return n % 2 == 1
    if annotation is int:
        return 60 * n + 7
    if annotation is float:
        # In (0, 1) (shares, p-values), to the millisecond when a Unix time.
        return (n % 997 + 1) / 1000
    if annotation is str:
        return f"{name}-{n}"
    if annotation is datetime:
        return BASE + timedelta(minutes=n, milliseconds=123 + n)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = list(annotation)
        return members[n % len(members)]
    if attrs.has(annotation):
        return _build(annotation, seed, given)
    raise TypeError(f"no example value for {name}: {annotation!r}")


def _build(cls: type[Any], seed: Iterator[int], given: bool = True) -> Any:
    attrs.resolve_types(cls)
    values = {f.name: _value(f.type, f.name, seed, given) for f in attrs.fields(cls)}
    return cls(**values)


def example(tag: str, optional: str = "given") -> Result:
    """One result of the type declared under ``tag``, built from its fields."""
    built: Result = _build(BY_TAG[tag].cls, itertools.count(1), optional == "given")
    return built


READ_BACK: dict[str, Callable[[ResultQueries, Any], Any]] = {
    "window_stats": lambda s, r: s.latest_window_stats(r.series.id),
    "metadata": lambda s, r: s.latest_metadata(r.series.id),
    "forecast": lambda s, r: s.latest_forecast(r.series.id),
    "forecast_score": lambda s, r: s.latest_forecast_score(r.series.id),
    "etl_run": lambda s, r: s.etl_runs(1)[0],
}
"""The result read back through ``ResultQueries``, for the types it answers
(reading a new type back is a separate change: see docs/contributing.md)."""


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite file migrated to head, copied by each test."""
    path = tmp_path_factory.mktemp("head") / "head.db"
    upgrade(f"sqlite:///{path}")
    return path


def test_the_example_builder_needs_nothing_but_attrs_fields() -> None:
    @attrs.frozen(kw_only=True)
    class Plain:
        series: SeriesKey
        at: datetime
        count: int
        share: float | None
        worker: str
        ok: bool
        lags: tuple[int, ...]

    built = _build(Plain, itertools.count(1))
    assert built.at.microsecond % 1000 == 0 and built.at.tzinfo is UTC
    assert built.share is not None and len(set(built.lags)) == 2
    assert example("window_stats") == example("window_stats")  # deterministic
    absent = _build(Plain, itertools.count(1), given=False)
    assert absent.share is None and absent.lags == built.lags


def test_the_forecast_examples_cover_its_distributions_given_and_absent() -> None:
    given, absent = example("forecast"), example("forecast", "absent")
    assert isinstance(given, Forecast) and isinstance(absent, Forecast)
    assert given.average is not None and given.window_max is not None
    assert all(p.running_max and p.running_min for p in given.points)
    assert absent.average is None
    assert all(p.running_max is None is p.running_min for p in absent.points)


@pytest.mark.parametrize("optional", OPTIONAL)
@pytest.mark.parametrize("tag", TAGS)
def test_the_message_is_valid_and_decodes_back_on_every_path(
    tag: str, optional: str
) -> None:
    result = example(tag, optional)
    key, envelope = encode(result, BASE)
    payload = to_bytes(envelope)
    message = json.loads(payload)
    validate(message)
    assert message["type"] == tag
    assert key == BY_TAG[tag].key(result)
    assert _checked(payload) == result
    assert decode(payload) == result
    if tag in FAST:
        assert decode_fast(payload) == result


def _column(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    return value.value if isinstance(value, Enum) else value


@pytest.mark.parametrize("optional", OPTIONAL)
@pytest.mark.parametrize("tag", TAGS)
def test_both_stores_keep_it_read_it_back_and_prune_the_same_rows(
    tag: str, optional: str, migrated: Path, tmp_path: Path
) -> None:
    result, declared = example(tag, optional), BY_TAG[tag]
    series = declared.series(result)
    fake = InMemoryResultStore()
    fake.write([result])

    shutil.copy(migrated, tmp_path / "results.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'results.db'}")
    store = SqlResultStore(engine)
    try:
        store.write([result])
        table, to_rows = stored(tag)
        if tag not in STORED:
            assert table.name == tag
        pk = [c.name for c in table.primary_key]
        with engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(sa.select(table))]
        expected = sorted(to_rows(result), key=lambda r: [r[c] for c in pk])
        rows.sort(key=lambda r: [r[c] for c in pk])
        assert len(rows) == len(expected) > 0
        assert [
            {k: r[k] for k in e} for r, e in zip(rows, expected, strict=True)
        ] == expected
        columns = set(table.c.keys())
        for row in rows:  # the example's own values, whatever made the rows
            for field in attrs.fields(type(result)):
                value = getattr(result, field.name)
                if field.name in columns and not isinstance(value, tuple):
                    assert row[field.name] == _column(value), field.name
            if series is not None:
                assert row["series_id"] == series.id
        if series is not None:
            for queries in (fake, store):
                record = queries.get_series(series.id)
                assert record is not None and record.key == series
        if tag in READ_BACK:
            for queries in (fake, store):
                assert READ_BACK[tag](queries, result) == result
        pruned = store.prune(FAR_FUTURE, batch_size=1000)
        assert fake.prune(FAR_FUTURE, batch_size=1000) == pruned == len(rows)
    finally:
        engine.dispose()
