"""Store forecast points packed (binary doubles) instead of JSON text (ADR 0019).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Both ways convert every existing row, a few hundred per statement, through a
second column (``points_new``): add it, fill it, drop ``points``, then make
``points_new`` the NOT NULL ``points``. Each step first looks at what is there,
so a run killed at any point (MySQL commits each DDL statement at once) is
finished by the next one.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from adapters.sql.legacy_points import json_to_points, points_to_json
from adapters.sql.packed import pack_points, unpack_points

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE, NEW, BATCH = "forecasts", "points_new", 500
PACKED = sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql")
JSON_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
Convert = Callable[[Any, int], Any]


def _packed(text: str, step: int) -> bytes:
    return pack_points(json_to_points(text), step)


def _json(data: bytes, step: int) -> str:
    return points_to_json(unpack_points(bytes(data), step))


def upgrade() -> None:
    """JSON text to packed points."""
    _change(PACKED, bytes, _packed)


def downgrade() -> None:
    """Packed points back to the JSON text of 0003, the same text as it wrote."""
    _change(JSON_TEXT, str, _json)


def _columns() -> dict[str, type]:
    """Python type of each column of ``forecasts``."""
    inspector = sa.inspect(op.get_bind())
    return {c["name"]: c["type"].python_type for c in inspector.get_columns(TABLE)}


def _change(type_: Any, kind: type, convert: Convert) -> None:
    if not sa.inspect(op.get_bind()).has_table(TABLE):
        _rename_rebuilt()  # SQLite, killed between the drop and the rename
        return
    columns = _columns()
    if NEW not in columns and columns.get("points") is kind:
        return  # already done
    if NEW not in columns:
        op.add_column(TABLE, sa.Column(NEW, type_, nullable=True))
    if "points" in columns:
        _fill(convert)
        op.drop_column(TABLE, "points")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(type_)
    else:
        op.alter_column(
            TABLE, NEW, new_column_name="points", nullable=False, existing_type=type_
        )


def _fill(convert: Convert) -> None:
    """Convert the rows whose new column is still NULL, ``BATCH`` at a time.

    Batches follow the primary key (keyset pagination), so each reads only
    its own rows: a scan for "still NULL" would re-read every converted row.
    """
    table = sa.table(
        TABLE,
        sa.column("made_at"),
        sa.column("series_id"),
        sa.column("step_seconds"),
        sa.column("points"),
        sa.column(NEW),
    )
    c = table.c
    todo = c[NEW].is_(None).label("todo")
    page = sa.select(c.made_at, c.series_id, c.step_seconds, c.points, todo)
    page = page.order_by(c.made_at, c.series_id).limit(BATCH)
    made: sa.BindParameter[int] = sa.bindparam("after_made")
    series: sa.BindParameter[str] = sa.bindparam("after_series")
    later = sa.or_(c.made_at > made, sa.and_(c.made_at == made, c.series_id > series))
    update = (
        sa.update(table)
        .where(c.made_at == sa.bindparam("m"), c.series_id == sa.bindparam("s"))
        .values({NEW: sa.bindparam("v")})
    )
    bind = op.get_bind()
    rows = bind.execute(page).all()
    while rows:
        values = [
            {"m": r.made_at, "s": r.series_id, "v": convert(r.points, r.step_seconds)}
            for r in rows
            if r.todo
        ]
        if values:
            bind.execute(update, values)
        last = {"after_made": rows[-1].made_at, "after_series": rows[-1].series_id}
        rows = bind.execute(page.where(later), last).all()


_KEPT = (
    "series_id, made_at, step_seconds, model, predicted_min, predicted_max, "
    "predicted_avg, holdout_mae"
)


_REBUILT = "_forecasts_0004"


def _rebuild_sqlite(type_: Any) -> None:
    """SQLite cannot rename a column to NOT NULL in place: copy the table."""
    op.execute(f"DROP TABLE IF EXISTS {_REBUILT}")
    op.create_table(
        _REBUILT,
        sa.Column("series_id", sa.CHAR(16), nullable=False),
        sa.Column("made_at", sa.BigInteger(), nullable=False),
        sa.Column("step_seconds", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        *(
            sa.Column(name, sa.Double(), nullable=True)
            for name in ("predicted_min", "predicted_max", "predicted_avg")
        ),
        sa.Column("holdout_mae", sa.Double(), nullable=True),
        sa.Column("points", type_, nullable=False),
        sa.Column("special", sa.Text(), nullable=True),
        sa.CheckConstraint(
            sa.func.char_length(sa.column("model")) <= 64,
            name="ck_forecasts_model_length",
        ),
        sa.PrimaryKeyConstraint("made_at", "series_id"),
    )
    op.execute(
        f"INSERT INTO {_REBUILT} ({_KEPT}, points, special) "
        f"SELECT {_KEPT}, {NEW}, special FROM {TABLE}"
    )
    op.drop_table(TABLE)
    _rename_rebuilt()


def _rename_rebuilt() -> None:
    op.rename_table(_REBUILT, TABLE)
    op.create_index("ix_forecasts_series_id_made_at", TABLE, ["series_id", "made_at"])
