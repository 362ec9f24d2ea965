"""Run the Alembic migrations from code, on a database URL given by the caller."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from adapters.sql.engine import translated

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def config(url: str) -> Config:
    """An Alembic config on this package's migrations; no alembic.ini needed."""
    alembic_config = Config()
    alembic_config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as an attribute: a password may hold '%', which the ini parser reads.
    alembic_config.attributes["url"] = url
    return alembic_config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``.

    Raises:
        StoreUnavailable: the database could not be reached or refused a change.
    """
    with translated(f"upgrading the schema to {revision}"):
        command.upgrade(config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (``base``: empty).

    Raises:
        StoreUnavailable: the database could not be reached or refused a change.
    """
    with translated(f"downgrading the schema to {revision}"):
        command.downgrade(config(url), revision)


def current(url: str) -> str | None:
    """The revision the database is at, None when it was never migrated.

    Raises:
        StoreUnavailable: the database could not be reached.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with translated("reading the schema revision"), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
