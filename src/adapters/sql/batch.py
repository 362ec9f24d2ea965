"""One write's results as rows per table, deduplicated by natural key (last wins)."""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from adapters.sql import rows as to_row
from adapters.sql import tables
from adapters.sql.rows import Row
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import Result
from monitoring_core.runs import EtlRun
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats

_KEYS: dict[sa.Table, Callable[[Row], tuple[Any, ...]]] = {
    table: itemgetter(*[c.name for c in table.primary_key])
    for table in tables.HISTORY
    if len(table.primary_key) > 1
}
_KEYS[tables.etl_runs] = lambda row: (row["run_id"],)


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
        if isinstance(result, SeriesWindowStats):
            self._see(result.series, result.kind, result.at)
            rows, key = self._rows[tables.window_stats], _KEYS[tables.window_stats]
            for row in to_row.window_stats_rows(result):
                rows[key(row)] = row
        elif isinstance(result, SeriesMetadata):
            self._see(result.series, None, result.computed_at)
            self._put(tables.series_metadata, to_row.metadata_row(result))
        elif isinstance(result, Forecast):
            self._see(result.series, None, result.made_at)
            self._put(tables.forecasts, to_row.forecast_row(result))
        elif isinstance(result, ForecastScore):
            self._see(result.series, None, result.scored_at)
            self._put(tables.forecast_scores, to_row.score_row(result))
        elif isinstance(result, EtlRun):
            self._put(tables.etl_runs, to_row.run_row(result))

    def _put(self, table: sa.Table, row: Row) -> None:
        self._rows[table][_KEYS[table](row)] = row

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
