"""The SQLAlchemy Core tables of stored results, shared by MariaDB/MySQL and SQLite."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

NAME_LENGTH = 255
MODEL_LENGTH = 64
RUN_ID_LENGTH = 64
WORKER_LENGTH = 255
KIND_LENGTH = 16

metadata = sa.MetaData()

# InnoDB with utf8mb4 and a binary collation: names and run ids compare
# case-sensitively, as Prometheus names do. SQLite ignores these options.
_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
# TEXT holds 64 KiB on MySQL; a long forecast horizon can exceed it.
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
# BLOB holds 64 KiB on MySQL; packed points of a long horizon can exceed it.
_LONG_BLOB = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql")


def _ms(name: str, nullable: bool = False) -> sa.Column[int]:
    """Times are epoch milliseconds: exact, portable and cheap to index."""
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _double(name: str) -> sa.Column[float]:
    """Nullable: NaN and ±Inf are stored as NULL plus an entry in ``special``."""
    return sa.Column(name, sa.Double(), nullable=True)


def _fits(table: str, column: str, length: int) -> sa.CheckConstraint:
    """SQLite ignores VARCHAR lengths; this makes it refuse what MariaDB refuses."""
    check = sa.func.char_length(sa.column(column)) <= length
    return sa.CheckConstraint(check, name=f"ck_{table}_{column}_length")


def _series_and(time: str) -> list[sa.Column[Any]]:
    """The first columns of a history table: which series, and when."""
    return [sa.Column("series_id", sa.CHAR(16), nullable=False), _ms(time)]


def _keys(table: str, time: str, *more: str) -> list[Any]:
    """The last items of a history table: ``special`` and the two keys.

    The primary key leads with the time, so InnoDB's clustered index grows at
    its end (inserts stay in memory, pruning cuts its head); the index
    ``(series_id, time)`` serves "latest of a series" and "history of a series".
    """
    return [
        sa.Column("special", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(time, "series_id", *more),
        sa.Index(f"ix_{table}_series_id_{time}", "series_id", time),
    ]


series = sa.Table(
    "series",
    metadata,
    sa.Column("id", sa.CHAR(16), primary_key=True),
    sa.Column("name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("labels", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(KIND_LENGTH), nullable=False),
    _ms("first_seen"),
    _ms("last_seen"),
    _fits("series", "name", NAME_LENGTH),
    sa.Index("ix_series_name_id", "name", "id"),
    **_OPTIONS,
)

window_stats = sa.Table(
    "window_stats",
    metadata,
    *_series_and("at"),
    _int("window_seconds"),
    sa.Column("kind", sa.String(KIND_LENGTH), nullable=False),
    _int("count"),
    *(_double(name) for name in ("min", "max", "avg", "stddev", "last")),
    _ms("last_timestamp", nullable=True),
    *_keys("window_stats", "at", "window_seconds"),
    **_OPTIONS,
)

series_metadata = sa.Table(
    "metadata",
    metadata,
    *_series_and("computed_at"),
    _int("lookback_seconds"),
    _int("step_seconds"),
    _int("sample_count"),
    sa.Column("stationarity", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    _double("adf_statistic"),
    _double("adf_p_value"),
    sa.Column("adf_stationary", sa.Boolean(), nullable=True),
    _double("kpss_statistic"),
    _double("kpss_p_value"),
    sa.Column("kpss_stationary", sa.Boolean(), nullable=True),
    sa.Column("acf", _LONG_TEXT, nullable=False),
    sa.Column("acf_significant_lags", sa.Text(), nullable=False),
    _int("seasonality_period_seconds", nullable=True),
    _double("seasonality_strength"),
    *_keys("metadata", "computed_at"),
    **_OPTIONS,
)

forecasts = sa.Table(
    "forecasts",
    metadata,
    *_series_and("made_at"),
    _int("step_seconds"),
    sa.Column("model", sa.String(MODEL_LENGTH), nullable=False),
    *(_double(f"predicted_{name}") for name in ("min", "max", "avg")),
    _double("holdout_mae"),
    # Packed doubles (adapters.sql.packed, migration 0004); JSON text before.
    sa.Column("points", _LONG_BLOB, nullable=False),
    _fits("forecasts", "model", MODEL_LENGTH),
    *_keys("forecasts", "made_at"),
    **_OPTIONS,
)

forecast_scores = sa.Table(
    "forecast_scores",
    metadata,
    *_series_and("forecast_made_at"),
    _ms("scored_at"),
    sa.Column("model", sa.String(MODEL_LENGTH), nullable=False),
    _int("points_compared"),
    *(_double(name) for name in ("mae", "coverage_80", "coverage_95")),
    _fits("forecast_scores", "model", MODEL_LENGTH),
    *_keys("forecast_scores", "forecast_made_at"),
    **_OPTIONS,
)

etl_runs = sa.Table(
    "etl_runs",
    metadata,
    sa.Column("run_id", sa.String(RUN_ID_LENGTH), primary_key=True),
    _ms("started_at"),
    _ms("finished_at"),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("steps", sa.Text(), nullable=False),
    _int("series_count"),
    _int("results_published"),
    _int("results_delivered", nullable=True),
    _int("results_buffered", nullable=True),
    sa.Column("aborted", sa.Text(), nullable=True),
    sa.Column("worker", sa.String(WORKER_LENGTH), nullable=True),
    # Ascending shards as compact ranges (``0-15,32``; ``-``: none), ADR 0058.
    sa.Column("shards", sa.Text(), nullable=True),
    _fits("etl_runs", "run_id", RUN_ID_LENGTH),
    _fits("etl_runs", "worker", WORKER_LENGTH),
    sa.Index("ix_etl_runs_started_at", "started_at"),
    **_OPTIONS,
)

sla_predictions = sa.Table(
    "sla_predictions",
    metadata,
    _ms("made_at"),
    sa.Column("sla", sa.String(63), nullable=False),
    _int("objective"),
    sa.Column("series_id", sa.CHAR(16), nullable=False),
    sa.Column("series_name", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("series_labels", sa.Text(), nullable=False),
    _int("slice_seconds"),
    sa.Column("slices", _LONG_TEXT, nullable=False),
    sa.PrimaryKeyConstraint("made_at", "sla", "objective", "series_id"),
    sa.Index("ix_sla_predictions_sla_made_at", "sla", "made_at"),
    **_OPTIONS,
)
"""Every prediction of the SLA manager (migration 0003), to be scored when due."""

HISTORY = {
    window_stats: window_stats.c.at,
    series_metadata: series_metadata.c.computed_at,
    forecasts: forecasts.c.made_at,
    forecast_scores: forecast_scores.c.forecast_made_at,
    etl_runs: etl_runs.c.started_at,
    sla_predictions: sla_predictions.c.made_at,
}
"""History tables and the time column by which ``prune`` ages their rows."""

SLA_NAME_LENGTH = 63

slas = sa.Table(
    "slas",
    metadata,
    sa.Column("name", sa.String(SLA_NAME_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("definition", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    **_OPTIONS,
)
"""SLA definitions (migration 0002); ``definition`` is the JSON of the objectives."""
