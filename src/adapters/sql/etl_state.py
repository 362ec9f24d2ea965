"""The ETL's durable state in one SQLite file through SQLAlchemy Core (ADR 0047).

Two tables of their own, apart from the result database (the ETL has no
database of its own otherwise): the forecasts awaiting their score, one row per
series and forecast time with the points and bands as plain doubles
(``pack``: lossless, and cheap enough to rewrite every cycle), and the last SLA
forecast target set as one JSON row. Every write is one SQLite transaction, so
a process killed mid-write leaves the previous state. The file's schema
version is SQLite's ``user_version``.
"""

import contextlib
import json
import logging
import math
import os
import struct
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine, Row

from adapters.sql.engine import describe, make_engine, translated
from monitoring_core.errors import StoreUnavailable
from monitoring_core.forecasts import Band, Forecast, ForecastPoint
from monitoring_core.ports import EtlStateStore, ForecastKey
from monitoring_core.selectors import Selector, parse_selector
from monitoring_core.series import MetricKind, SeriesKey

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""The layout this module writes; a file of a newer one is refused."""
_TARGETS = "forecast_targets"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
RESET_HINT = (
    "delete the file (or set MONITORING_ETL_STATE_PATH elsewhere) to start "
    "with an empty state: the scores of pending forecasts and the saved SLA "
    "target set are then lost"
)

_metadata = sa.MetaData()
pending = sa.Table(
    "pending_forecasts",
    _metadata,
    sa.Column("series_id", sa.String(), primary_key=True),
    sa.Column("made_at_us", sa.BigInteger(), primary_key=True),
    sa.Column("series_name", sa.String(), nullable=False),
    sa.Column("series_labels", sa.String(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("step_seconds", sa.Integer(), nullable=False),
    sa.Column("model", sa.String(), nullable=False),
    # NULL for NaN (SQLite stores NaN as NULL anyway).
    sa.Column("holdout_mae", sa.Double(), nullable=True),
    sa.Column("points", sa.LargeBinary(), nullable=False),
)
values = sa.Table(
    "etl_state",
    _metadata,
    sa.Column("name", sa.String(), primary_key=True),
    sa.Column("value", sa.String(), nullable=False),
)


def _us(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (a datetime's own resolution)."""
    return (moment - _EPOCH) // _MICROSECOND


_HEAD = struct.Struct("<BHB")
"""Format, point count, whether the forecast's average band follows."""
_FORMAT = 1


def pack(forecast: Forecast) -> bytes:
    """The points and bands as little-endian doubles, exactly.

    Not the result store's compressed format (``packed.py``): that one costs
    several times more per forecast, and this state is rewritten every cycle.
    Per point: timestamp, mean, the 80 % and 95 % bounds, then its running max
    and min bands when it has them (one presence byte each, per point).
    """
    points = forecast.points
    values: list[float] = []
    for p in points:
        values += (p.timestamp, p.mean, p.lower_80, p.upper_80, p.lower_95, p.upper_95)
        if p.running_max is not None:
            values += p.running_max.quantiles()
        if p.running_min is not None:
            values += p.running_min.quantiles()
    if forecast.average is not None:
        values += forecast.average.quantiles()
    return b"".join(
        (
            _HEAD.pack(_FORMAT, len(points), forecast.average is not None),
            bytes(p.running_max is not None for p in points),
            bytes(p.running_min is not None for p in points),
            struct.pack(f"<{len(values)}d", *values),
        )
    )


def _band(values: tuple[float, ...], at: int) -> Band:
    return Band(
        lower_95=values[at],
        lower_80=values[at + 1],
        median=values[at + 2],
        upper_80=values[at + 3],
        upper_95=values[at + 4],
    )


def unpack(data: bytes) -> tuple[tuple[ForecastPoint, ...], Band | None]:
    """The points and average band ``pack`` packed; ValueError when damaged."""
    try:
        form, n, has_average = _HEAD.unpack_from(data)
        flags = data[_HEAD.size : _HEAD.size + 2 * n]
        body = data[_HEAD.size + 2 * n :]
        values = struct.unpack(f"<{len(body) // 8}d", body)
    except struct.error as exc:
        raise ValueError(f"damaged points: {exc}") from exc
    wanted = 6 * n + 5 * (sum(flags) + has_average)
    if form != _FORMAT or len(flags) != 2 * n or len(body) != 8 * wanted:
        raise ValueError("damaged points: wrong format or length")
    points, at = [], 0
    for k in range(n):
        running_max = running_min = None
        own = values[at : at + 6]
        at += 6
        if flags[k]:
            running_max, at = _band(values, at), at + 5
        if flags[n + k]:
            running_min, at = _band(values, at), at + 5
        points.append(
            ForecastPoint(
                timestamp=own[0],
                mean=own[1],
                lower_80=own[2],
                upper_80=own[3],
                lower_95=own[4],
                upper_95=own[5],
                running_max=running_max,
                running_min=running_min,
            )
        )
    return tuple(points), _band(values, at) if has_average else None


def _row(forecast: Forecast) -> dict[str, Any]:
    mae = forecast.holdout_mae
    return {
        "series_id": forecast.series.id,
        "made_at_us": _us(forecast.made_at),
        "series_name": forecast.series.name,
        "series_labels": json.dumps(forecast.series.label_map, sort_keys=True),
        "kind": forecast.kind.value,
        "step_seconds": forecast.step_seconds,
        "model": forecast.model,
        "holdout_mae": None if math.isnan(mae) else mae,
        "points": pack(forecast),
    }


def _forecast(row: Row[Any]) -> Forecast:
    """The forecast of a row; ValueError when the row is damaged."""
    points, average = unpack(row.points)
    return Forecast(
        series=SeriesKey.of(row.series_name, json.loads(row.series_labels)),
        made_at=_EPOCH + row.made_at_us * _MICROSECOND,
        step_seconds=row.step_seconds,
        model=row.model,
        holdout_mae=math.nan if row.holdout_mae is None else row.holdout_mae,
        points=points,
        kind=MetricKind(row.kind),
        average=average,
    )


def _selector_json(selectors: Sequence[Selector]) -> str:
    """The selectors as a JSON list of their PromQL text."""
    return json.dumps([s.to_promql() for s in selectors])


def _selectors(text: str) -> list[Selector]:
    return [parse_selector(promql) for promql in json.loads(text)]


class SqliteEtlState(EtlStateStore):
    """The ETL state in a SQLite file (see ``open_etl_state``)."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self._engine = engine
        self.path = path
        self._lock = threading.Lock()  # one writer at a time in this process

    def pending_forecasts(self) -> list[Forecast]:
        """See ``EtlStateStore``; a damaged row is skipped with a warning."""
        with translated(f"reading {self.path}"), self._engine.connect() as c:
            rows = list(c.execute(sa.select(pending)))
        forecasts = []
        for row in rows:
            try:
                forecasts.append(_forecast(row))
            except (ValueError, TypeError) as exc:
                log.warning(
                    "skipping a damaged pending forecast of %s in %s: %s",
                    row.series_name,
                    self.path,
                    exc,
                )
        return forecasts

    def update_forecasts(
        self, added: Sequence[Forecast], removed: Sequence[ForecastKey]
    ) -> None:
        """See ``EtlStateStore``: one transaction, deletes then upserts."""
        if not added and not removed:
            return
        rows = [_row(f) for f in added]
        keys = [{"sid": series, "us": _us(at)} for series, at in removed]
        with self._write(
            f"saving {len(rows)} and forgetting {len(keys)} forecasts"
        ) as c:
            if keys:
                c.execute(_delete_one(), keys)
            if rows:
                c.execute(_upsert(), rows)

    def replace_forecasts(self, forecasts: Sequence[Forecast]) -> None:
        """See ``EtlStateStore``: one transaction, everything rewritten."""
        rows = [_row(f) for f in forecasts]
        with self._write(f"rewriting {len(rows)} pending forecasts") as c:
            c.execute(sa.delete(pending))
            if rows:
                c.execute(sa.insert(pending), rows)

    def forecast_targets(self) -> list[Selector] | None:
        """See ``EtlStateStore``."""
        query = sa.select(values.c.value).where(values.c.name == _TARGETS)
        with translated(f"reading {self.path}"), self._engine.connect() as c:
            text = c.execute(query).scalar()
        if text is None:
            return None
        try:
            return _selectors(text)
        except (ValueError, TypeError) as exc:
            raise StoreUnavailable(
                f"the SLA target set saved in {self.path} is damaged ({exc}); "
                + RESET_HINT
            ) from exc

    def save_forecast_targets(self, selectors: Sequence[Selector]) -> None:
        """See ``EtlStateStore``."""
        row = {"name": _TARGETS, "value": _selector_json(selectors)}
        statement = sqlite.insert(values)
        statement = statement.on_conflict_do_update(
            index_elements=[values.c.name], set_={"value": statement.excluded.value}
        )
        with self._write(f"saving {len(selectors)} forecast targets") as c:
            c.execute(statement, row)

    def close(self) -> None:
        """Close the file's connections."""
        self._engine.dispose()

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[sa.Connection]:
        """The store's lock, then one transaction; errors translated."""
        with (
            self._lock,
            translated(f"{action} in {self.path}"),
            self._engine.begin() as connection,
        ):
            yield connection


def _delete_one() -> sa.Delete:
    return sa.delete(pending).where(
        pending.c.series_id == sa.bindparam("sid"),
        pending.c.made_at_us == sa.bindparam("us"),
    )


def _upsert() -> sa.Insert:
    statement = sqlite.insert(pending)
    columns = [c.name for c in pending.columns if not c.primary_key]
    return statement.on_conflict_do_update(
        index_elements=list(pending.primary_key),
        set_={name: statement.excluded[name] for name in columns},
    )


def _refuse(path: Path, reason: str) -> StoreUnavailable:
    return StoreUnavailable(
        f"cannot use the ETL state file {path}: {reason} "
        "(MONITORING_ETL_STATE_PATH; 'none' keeps the state in memory only)"
    )


def _prepare_folder(path: Path) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse(path, f"its folder cannot be created: {exc.strerror}") from exc
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise _refuse(path, f"its folder {path.parent} is not writable")
    if path.exists() and not (path.is_file() and os.access(path, os.R_OK | os.W_OK)):
        raise _refuse(path, "it is not a readable and writable file")


def open_etl_state(path: Path) -> SqliteEtlState:
    """Open (or create, readable by its owner only) the state file at ``path``.

    Raises:
        StoreUnavailable: the folder or file cannot be created or written, the
            file is not a SQLite database, or a newer version wrote it; the
            message says which and how to reset it.
    """
    path = path.expanduser()
    _prepare_folder(path)
    created = not path.exists()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            version = connection.exec_driver_sql("PRAGMA user_version").scalar()
            if isinstance(version, int) and version > SCHEMA_VERSION:
                raise _refuse(
                    path,
                    f"a newer version wrote it (layout {version}, this one "
                    f"reads {SCHEMA_VERSION}); {RESET_HINT}",
                )
            _metadata.create_all(connection)
            connection.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise _refuse(path, f"{describe(exc)}; {RESET_HINT}") from exc
    except StoreUnavailable:
        engine.dispose()
        raise
    if created:
        path.chmod(0o600)
    return SqliteEtlState(engine, path)
