"""The read statements of the SQL store, built once with bound parameters.

Building a statement and its SQLAlchemy cache key on every call costs more
CPU than the database needs to answer it (about 0.4 ms against 0.3 ms for a
latest-statistics read); a statement built once keeps its cache key, so each
execution only binds the parameters to the compiled SQL from the cache.

Every statement that reads a history table joins the series row, so one round
trip gives the rows and the series key (``NAME`` and ``LABELS`` columns).
"""

import sqlalchemy as sa

from adapters.sql import tables

Query = sa.Select[tuple[object, ...]]

SERIES_ID, START, END, LIMIT = "series_id", "start", "end", "limit"
"""Names of the bound parameters (the series id, epoch ms bounds, a row count)."""
NAME, AFTER_ID = "name", "after_id"
"""Names of the bound parameters of a series listing."""
SERIES_NAME, SERIES_LABELS = "series_name", "series_labels"
"""Labels of the series columns joined to history rows (no history column's)."""
SERIES_KIND = "series_kind"
"""Label of the series' kind joined to history rows: forecasts take it (ADR 0016)."""

_series, _stats = tables.series, tables.window_stats
_id: sa.BindParameter[str] = sa.bindparam(SERIES_ID)


def _with_key(table: sa.Table) -> Query:
    """Every column of a history table plus its series' name, labels and kind.

    An inner join: a row whose series is missing (never written so) is not
    found, as a separate look-up of the series would not find it either.
    """
    names = (
        _series.c.name.label(SERIES_NAME),
        _series.c.labels.label(SERIES_LABELS),
        _series.c.kind.label(SERIES_KIND),
    )
    joined = table.join(_series, _series.c.id == table.c.series_id)
    return sa.select(*table.c, *names).select_from(joined)


def _latest_stats() -> Query:
    of_series = _stats.c.series_id == _id
    newest = sa.select(sa.func.max(_stats.c.at)).where(of_series).scalar_subquery()
    return _with_key(_stats).where(of_series, _stats.c.at == newest)


def _stats_between() -> Query:
    at = _stats.c.at
    span = at.between(sa.bindparam(START), sa.bindparam(END))
    query = _with_key(_stats).where(_stats.c.series_id == _id, span)
    return query.order_by(at, _stats.c.window_seconds)


def _scores_between() -> Query:
    scores = tables.forecast_scores
    made = scores.c.forecast_made_at
    span = made.between(sa.bindparam(START), sa.bindparam(END))
    return _with_key(scores).where(scores.c.series_id == _id, span).order_by(made)


def _latest(table: sa.Table, time: sa.Column[int]) -> Query:
    query = _with_key(table).where(table.c.series_id == _id)
    return query.order_by(time.desc()).limit(1)


def _series_page(by_name: bool, after: bool) -> Query:
    query = sa.select(_series).order_by(_series.c.id).limit(sa.bindparam(LIMIT))
    if by_name:
        query = query.where(_series.c.name == sa.bindparam(NAME))
    if after:
        query = query.where(_series.c.id > sa.bindparam(AFTER_ID))
    return query


def _etl_runs() -> Query:
    runs = tables.etl_runs
    query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
    return query.limit(sa.bindparam(LIMIT))


SERIES_BY_ID = sa.select(_series).where(_series.c.id == _id)
"""The ``series`` row of ``SERIES_ID``."""
LATEST_WINDOW_STATS = _latest_stats()
"""The ``window_stats`` rows of the newest evaluation of ``SERIES_ID``."""
WINDOW_STATS_BETWEEN = _stats_between()
"""The ``window_stats`` rows of ``SERIES_ID`` from ``START`` to ``END``."""
SCORES_BETWEEN = _scores_between()
"""The ``forecast_scores`` rows of ``SERIES_ID`` made from ``START`` to ``END``."""
LATEST = {
    tables.series_metadata: _latest(
        tables.series_metadata, tables.series_metadata.c.computed_at
    ),
    tables.forecasts: _latest(tables.forecasts, tables.forecasts.c.made_at),
    tables.forecast_scores: _latest(
        tables.forecast_scores, tables.forecast_scores.c.forecast_made_at
    ),
}
"""By history table: its newest row of ``SERIES_ID``."""
SERIES_PAGES = {
    (by_name, after): _series_page(by_name, after)
    for by_name in (False, True)
    for after in (False, True)
}
"""By (filtered by ``NAME``, after ``AFTER_ID``): up to ``LIMIT`` series by id."""
ETL_RUNS = _etl_runs()
"""The newest ``LIMIT`` ETL runs, newest first."""
PING = sa.text("SELECT 1")
