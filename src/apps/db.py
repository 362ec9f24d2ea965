"""``monitoring db``: apply or revert schema migrations."""

import sys

from adapters.sql import migrate
from apps.env import ConfigError, Env
from monitoring_core.errors import MonitoringError


def run(action: str, revision: str | None) -> int:
    """Run one migration action against ``MONITORING_DATABASE_URL``."""
    env = Env()
    url = env.text(
        "MONITORING_DATABASE_URL",
        "sqlite:///monitoring.db",
        r"(mysql\+pymysql|sqlite)://.*",
        "a mysql+pymysql:// or sqlite:// URL",
    )
    try:
        env.raise_if_invalid()
        if action == "upgrade":
            migrate.upgrade(url, revision or "head")
        elif action == "downgrade":
            migrate.downgrade(url, revision or "-1")
        print(f"database at revision {migrate.current(url) or 'base'}")
    except (ConfigError, MonitoringError) as exc:
        print(f"monitoring db: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    return 0
