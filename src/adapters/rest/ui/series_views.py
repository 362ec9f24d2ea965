"""What the console shows of series and ETL runs: the REST API's own answers.

Every block here is the body the matching ``/v1`` route returns for the same
query, built by the same functions (``representation``) from the same
``ResultQueries`` calls, so a page and the API cannot disagree.
"""

from datetime import datetime, timedelta
from typing import Any

from adapters.rest import representation
from adapters.rest.errors import UnknownSeries
from adapters.rest.params import SERIES_ID, encode_cursor
from adapters.rest.resources import scan_series
from monitoring_core.durations import format_duration
from monitoring_core.ports import ResultQueries
from monitoring_core.selectors import Selector

LISTED = 200
"""Series listed at most by the explorer (the API's cursor gives the rest)."""


def listing(queries: ResultQueries, selectors: list[Selector]) -> dict[str, Any]:
    """``GET /v1/series?match[]=…&limit=200``'s body."""
    names = {s.metric_name for s in selectors}
    name = names.pop() if len(names) == 1 else None
    chosen, after = scan_series(queries, selectors, name, None, LISTED)
    return representation.page(chosen, None if after is None else encode_cursor(after))


def series_page(
    queries: ResultQueries, series_id: str, now: datetime, range_seconds: int
) -> dict[str, Any]:
    """The bodies of the series' values, history, metadata, forecast and
    forecast score history routes.

    Raises:
        UnknownSeries: no series has this id.
    """
    record = queries.get_series(series_id) if SERIES_ID.fullmatch(series_id) else None
    if record is None:
        raise UnknownSeries(series_id)
    span = (now - timedelta(seconds=range_seconds), now)
    stats = queries.latest_window_stats(series_id)
    kind = record.kind if stats is None else stats.kind
    key = record.key if stats is None else stats.series
    return {
        "series": representation.series(record),
        "values": representation.values(key, kind, stats, now),
        "history": representation.history(
            record, queries.window_stats_between(series_id, *span), span, None
        ),
        "metadata": representation.metadata(record, queries.latest_metadata(series_id)),
        "forecast": representation.forecast(
            record,
            queries.latest_forecast(series_id),
            queries.latest_forecast_score(series_id),
        ),
        "scores": representation.score_history(
            record, queries.forecast_scores_between(series_id, *span), span
        ),
        "range": format_duration(range_seconds),
    }


def runs(queries: ResultQueries, limit: int) -> dict[str, Any]:
    """``GET /v1/etl/runs?limit=``'s body."""
    return representation.runs(queries.etl_runs(limit))
