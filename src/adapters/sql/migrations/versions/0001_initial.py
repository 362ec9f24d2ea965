"""Create the result tables: series, window_stats, metadata, forecasts, scores, runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
INDEXES = {  # one per table, in creation order
    "series": ("ix_series_name_id", ["name", "id"]),
    "window_stats": ("ix_window_stats_series_id_at", ["series_id", "at"]),
    "metadata": ("ix_metadata_series_id_computed_at", ["series_id", "computed_at"]),
    "forecasts": ("ix_forecasts_series_id_made_at", ["series_id", "made_at"]),
    "forecast_scores": (
        "ix_forecast_scores_series_id_forecast_made_at",
        ["series_id", "forecast_made_at"],
    ),
    "etl_runs": ("ix_etl_runs_started_at", ["started_at"]),
}


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _ms(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _text(name: str, type_: Any = None, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, type_ if type_ is not None else sa.Text(), nullable=nullable)


def _doubles(*names: str) -> list[sa.Column[float]]:
    return [sa.Column(name, sa.Double(), nullable=True) for name in names]


def _fits(table: str, column: str, length: int) -> sa.CheckConstraint:
    check = sa.func.char_length(sa.column(column)) <= length
    return sa.CheckConstraint(check, name=f"ck_{table}_{column}_length")


def _history(table: str, time: str, *columns: Any, key: Sequence[str] = ()) -> None:
    """A history table: series and time first, ``special`` and the key last."""
    op.create_table(
        table,
        sa.Column("series_id", sa.CHAR(16), nullable=False),
        _ms(time),
        *columns,
        _text("special", nullable=True),
        sa.PrimaryKeyConstraint(time, "series_id", *key),
        **OPTIONS,
        if_not_exists=True,
    )


def _series() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.CHAR(16), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        _text("labels"),
        sa.Column("kind", sa.String(16), nullable=False),
        _ms("first_seen"),
        _ms("last_seen"),
        _fits("series", "name", 255),
        **OPTIONS,
        if_not_exists=True,
    )


def _statistics() -> None:
    _history(
        "window_stats",
        "at",
        _int("window_seconds"),
        sa.Column("kind", sa.String(16), nullable=False),
        _int("count"),
        *_doubles("min", "max", "avg", "stddev", "last"),
        _ms("last_timestamp", nullable=True),
        key=["window_seconds"],
    )
    _history(
        "metadata",
        "computed_at",
        _int("lookback_seconds"),
        _int("step_seconds"),
        _int("sample_count"),
        sa.Column("stationarity", sa.String(32), nullable=False),
        _text("reason", nullable=True),
        *_doubles("adf_statistic", "adf_p_value"),
        sa.Column("adf_stationary", sa.Boolean(), nullable=True),
        *_doubles("kpss_statistic", "kpss_p_value"),
        sa.Column("kpss_stationary", sa.Boolean(), nullable=True),
        _text("acf", LONG_TEXT),
        _text("acf_significant_lags"),
        _int("seasonality_period_seconds", nullable=True),
        *_doubles("seasonality_strength"),
    )


def _forecasts() -> None:
    _history(
        "forecasts",
        "made_at",
        _int("step_seconds"),
        sa.Column("model", sa.String(64), nullable=False),
        *_doubles("predicted_min", "predicted_max", "predicted_avg", "holdout_mae"),
        _text("points", LONG_TEXT),
        _fits("forecasts", "model", 64),
    )
    _history(
        "forecast_scores",
        "forecast_made_at",
        _ms("scored_at"),
        sa.Column("model", sa.String(64), nullable=False),
        _int("points_compared"),
        *_doubles("mae", "coverage_80", "coverage_95"),
        _fits("forecast_scores", "model", 64),
    )


def _runs() -> None:
    op.create_table(
        "etl_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        _ms("started_at"),
        _ms("finished_at"),
        sa.Column("ok", sa.Boolean(), nullable=False),
        _text("steps"),
        _int("series_count"),
        _int("results_published"),
        _fits("etl_runs", "run_id", 64),
        **OPTIONS,
        if_not_exists=True,
    )


def upgrade() -> None:
    """Create every table with its secondary index.

    MySQL cannot roll DDL back, so a process killed half-way through leaves some
    tables behind; ``if_not_exists`` lets the next start finish the job.
    """
    _series()
    _statistics()
    _forecasts()
    _runs()
    for table, (index, columns) in INDEXES.items():
        op.create_index(index, table, columns, if_not_exists=True)


def downgrade() -> None:
    """Drop every table (and so its indexes)."""
    for table in reversed(INDEXES):
        op.drop_table(table)
