"""Keep which ETL worker ran a cycle and which shards it covered (ADR 0058).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Two nullable columns of ``etl_runs``: ``worker`` (the worker's instance id, at
most 255 characters, with the length check SQLite needs to refuse what MariaDB
refuses) and ``shards`` (ascending shards as compact ranges, ``0-15,32``; ``-``
for none). NULL is "not known": rows written before this revision, records of
an older or unsharded ETL. Each change is made only if it is missing, so a run
killed between two statements (MySQL commits each DDL statement at once) is
finished by the next one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "etl_runs"
WORKER_LENGTH = 255
CHECK = "ck_etl_runs_worker_length"
COLUMNS = (
    ("worker", sa.String(WORKER_LENGTH)),
    ("shards", sa.Text()),
)


def _present() -> tuple[set[str], set[str]]:
    """The table's columns and the names of its check constraints."""
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns(TABLE)}
    checks = {str(c["name"]) for c in inspector.get_check_constraints(TABLE)}
    return columns, checks


def upgrade() -> None:
    """Add the columns and the worker's length check that are missing."""
    columns, checks = _present()
    for name, type_ in COLUMNS:
        if name not in columns:
            op.add_column(TABLE, sa.Column(name, type_, nullable=True))
    if CHECK not in checks:
        # SQLite cannot add a constraint in place: the batch copies the table.
        with op.batch_alter_table(TABLE) as batch:
            batch.create_check_constraint(
                CHECK, sa.func.char_length(sa.column("worker")) <= WORKER_LENGTH
            )


def downgrade() -> None:
    """Drop the check and the columns that are there."""
    columns, checks = _present()
    with op.batch_alter_table(TABLE) as batch:
        if CHECK in checks:
            batch.drop_constraint(CHECK, type_="check")
        for name, _ in COLUMNS:
            if name in columns:
                batch.drop_column(name)
