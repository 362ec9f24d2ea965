"""Keep what an ETL cycle delivered, left buffered, or why it never ended (ADR 0054).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Three nullable columns of ``etl_runs``: NULL is "not known" (rows written
before this revision, records of an older ETL). Each column is added only if it
is missing, so a run killed between two statements (MySQL commits each DDL
statement at once) is finished by the next one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "etl_runs"
COLUMNS = (
    ("results_delivered", sa.Integer()),
    ("results_buffered", sa.Integer()),
    ("aborted", sa.Text()),
)


def _present() -> set[str]:
    inspector = sa.inspect(op.get_bind())
    return {c["name"] for c in inspector.get_columns(TABLE)}


def upgrade() -> None:
    """Add the columns that are missing."""
    present = _present()
    for name, type_ in COLUMNS:
        if name not in present:
            op.add_column(TABLE, sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    """Drop the columns that are there."""
    present = _present()
    with op.batch_alter_table(TABLE) as batch:
        for name, _ in COLUMNS:
            if name in present:
                batch.drop_column(name)
