"""Create the table of recorded SLA predictions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``sla_predictions``; safe to re-run after an interrupted upgrade."""
    op.create_table(
        "sla_predictions",
        sa.Column("made_at", sa.BigInteger(), nullable=False),
        sa.Column("sla", sa.String(63), nullable=False),
        sa.Column("objective", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.CHAR(16), nullable=False),
        sa.Column("series_name", sa.String(255), nullable=False),
        sa.Column("series_labels", sa.Text(), nullable=False),
        sa.Column("slice_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "slices",
            sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("made_at", "sla", "objective", "series_id"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
        if_not_exists=True,
    )
    op.create_index(
        "ix_sla_predictions_sla_made_at",
        "sla_predictions",
        ["sla", "made_at"],
        if_not_exists=True,
    )


def downgrade() -> None:
    """Drop ``sla_predictions``."""
    op.drop_table("sla_predictions", if_exists=True)
