"""The table of SLA definitions (migration 0002)."""

import sqlalchemy as sa

from adapters.sql.tables import metadata

NAME_LENGTH = 63

slas = sa.Table(
    "slas",
    metadata,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("definition", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_bin",
)
"""One row per SLA; ``definition`` is the JSON of its objectives and text."""
