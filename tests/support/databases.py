"""Throwaway databases on a real MariaDB/MySQL server."""

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa


@contextlib.contextmanager
def throwaway_database(server_url: str, prefix: str = "monitoring_t") -> Iterator[str]:
    """A new empty database ``<prefix><hex>`` on the server, dropped on exit.

    The test user may create databases named ``monitoring_<anything>`` (see
    ``scripts/services.sh``); yields the URL of the new one.
    """
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE `{name}`")
    try:
        url = sa.make_url(server_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()
