"""Recorded SLA predictions in MariaDB/MySQL or SQLite, for later scoring."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from adapters.sql.engine import make_engine, translated
from adapters.sql.tables import sla_predictions as table
from adapters.sql.upserts import upsert_statement
from adapters.sql.values import to_ms
from monitoring_core.ports import PredictionLog
from monitoring_core.prediction_scores import PredictionRecord
from monitoring_core.series import SeriesKey
from monitoring_core.slo import PredictedSlice, Side

_FIELDS = ("start", "end", "probability", "mean", "lower", "upper")


def _slice_json(item: PredictedSlice) -> list[Any]:
    return [
        *(getattr(item, f) for f in _FIELDS),
        item.side.value if item.side else None,
        item.projected_budget_remaining,
    ]


def _slice(values: list[Any]) -> PredictedSlice:
    *numbers, side, budget = values
    return PredictedSlice(
        **dict(zip(_FIELDS, numbers, strict=True)),
        side=Side(side) if side else None,
        projected_budget_remaining=budget,
    )


def _row(record: PredictionRecord) -> dict[str, Any]:
    return {
        "made_at": round(record.made_at * 1000),
        "sla": record.sla,
        "objective": record.objective,
        "series_id": record.series.id,
        "series_name": record.series.name,
        "series_labels": json.dumps(record.series.label_map, sort_keys=True),
        "slice_seconds": record.slice_seconds,
        "slices": json.dumps([_slice_json(s) for s in record.slices]),
    }


def _record(row: Row[Any]) -> PredictionRecord:
    return PredictionRecord(
        sla=row.sla,
        objective=row.objective,
        series=SeriesKey.of(row.series_name, json.loads(row.series_labels)),
        made_at=row.made_at / 1000,
        slice_seconds=row.slice_seconds,
        slices=tuple(_slice(v) for v in json.loads(row.slices)),
    )


class SqlPredictionLog(PredictionLog):
    """One row per series and prediction time; pruned with the result history."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, records: Sequence[PredictionRecord]) -> None:
        """See ``PredictionLog``: one upsert for all."""
        if not records:
            return
        rows = [_row(r) for r in records]
        with (
            translated(f"recording {len(rows)} predictions"),
            self._engine.begin() as connection,
        ):
            statement = upsert_statement(connection.dialect.name, table, False)
            connection.execute(statement, rows)

    def between(
        self, sla: str, start: datetime, end: datetime
    ) -> list[PredictionRecord]:
        """See ``PredictionLog``; served by ``(sla, made_at)``."""
        query = (
            sa.select(table)
            .where(
                table.c.sla == sla,
                table.c.made_at >= to_ms(start),
                table.c.made_at < to_ms(end),
            )
            .order_by(table.c.made_at, table.c.objective, table.c.series_id)
        )
        with translated("reading predictions"), self._engine.connect() as connection:
            return [_record(r) for r in connection.execute(query)]


def sql_prediction_log(url: str) -> SqlPredictionLog:
    """A log on its own engine for ``url`` (migrated beforehand)."""
    return SqlPredictionLog(make_engine(url))
