"""One write's results as rows per table, deduplicated by natural key (last wins)."""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from enum import Enum
from operator import itemgetter
from typing import Any

import attrs
import sqlalchemy as sa

from adapters.sql import rows as to_row
from adapters.sql import tables
from adapters.sql.rows import Row
from monitoring_core.results import Result, result_type
from monitoring_core.series import MetricKind, SeriesKey

_KEYS: dict[sa.Table, Callable[[Row], tuple[Any, ...]]] = {
    table: itemgetter(*[c.name for c in table.primary_key])
    for table in tables.HISTORY
    if len(table.primary_key) > 1
}
_KEYS[tables.etl_runs] = lambda row: (row["run_id"],)

STORED: dict[str, tuple[sa.Table, Callable[[Any], Iterable[Row]]]] = {
    "window_stats": (tables.window_stats, to_row.window_stats_rows),
    "metadata": (tables.series_metadata, lambda r: [to_row.metadata_row(r)]),
    "forecast": (tables.forecasts, lambda r: [to_row.forecast_row(r)]),
    "forecast_score": (tables.forecast_scores, lambda r: [to_row.score_row(r)]),
    "etl_run": (tables.etl_runs, lambda r: [to_row.run_row(r)]),
}
"""The table of each result type and its rows, by tag; a type without an entry
goes to the table named by its tag, one row of its fields (``plain_rows``)."""


def _column(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_row.ms(value)
    return value.value if isinstance(value, Enum) else value


def plain_rows(result: Any) -> list[Row]:
    """One row of a result's fields: times in epoch ms, enums by value, the
    series by its id (``series_id``)."""
    row = {f.name: _column(getattr(result, f.name)) for f in attrs.fields(type(result))}
    series = row.pop("series", None)
    return [row if series is None else {"series_id": to_row.series_id(series), **row}]


def stored(tag: str) -> tuple[sa.Table, Callable[[Any], Iterable[Row]]]:
    """Where a result type's rows go and how they are made."""
    return STORED.get(tag) or (tables.metadata.tables[tag], plain_rows)


class Batch:
    """The rows of one ``write``; a key seen twice keeps its last row."""

    def __init__(self, results: Iterable[Result]) -> None:
        self._series: dict[str, Row] = {}
        self._rows: dict[sa.Table, dict[tuple[Any, ...], Row]] = {
            table: {} for table in tables.HISTORY
        }
        for result in results:
            self._add(result)

    def _add(self, result: Result) -> None:
        declared = result_type(result)
        series = declared.series(result)
        if series is not None:
            kind = declared.series_kind(result)
            self._see(series, kind, declared.seen_at(result))
        table, to_rows = stored(declared.tag)
        rows, key = self._rows[table], _KEYS[table]
        for row in to_rows(result):
            rows[key(row)] = row

    def _see(self, key: SeriesKey, kind: MetricKind | None, seen: datetime) -> None:
        series_id = to_row.series_id(key)
        known = self._series.get(series_id)
        if known is None:
            self._series[series_id] = to_row.series_row(key, kind, seen)
            return
        seen_ms = to_row.ms(seen)
        known["first_seen"] = min(seen_ms, known["first_seen"])
        known["last_seen"] = max(seen_ms, known["last_seen"])
        if kind is not None:
            known["kind"] = kind.value

    def series(self, kind_known: bool) -> list[Row]:
        """Series rows whose kind came from window statistics, or the others
        (inserted as gauges; an existing row keeps its kind); by id."""
        rows = sorted(self._series.values(), key=lambda r: str(r["id"]))
        if kind_known:
            return [r for r in rows if r["kind"] is not None]
        gauge = MetricKind.GAUGE.value
        return [{**r, "kind": gauge} for r in rows if r["kind"] is None]

    def history(self) -> Iterator[tuple[sa.Table, list[Row]]]:
        """The rows of every history table that has some, in key order.

        Concurrent writers then lock rows in the same order (no deadlock), and
        InnoDB inserts along its clustered index.
        """
        for table, keyed in self._rows.items():
            if keyed:
                yield table, [keyed[key] for key in sorted(keyed)]
