"""``monitoring db``: apply or revert schema migrations."""

import sys

from adapters.sql import migrate
from apps.env import ConfigError, Env
from apps.logs import use_human_format
from apps.settings import read_database_url
from monitoring_core.errors import MonitoringError


def run(action: str, revision: str | None) -> int:
    """Run one migration action against ``MONITORING_DATABASE_URL``."""
    env = Env()
    url = read_database_url(env)
    use_human_format()  # a person or a one-shot container reads this
    try:
        env.raise_if_invalid()
        before = migrate.current(url) or "base"
        if action == "upgrade":
            migrate.upgrade(url, revision or "head")
        elif action == "downgrade":
            migrate.downgrade(url, revision or "-1")
        after = migrate.current(url) or "base"
        was = "" if before == after else f" (was {before})"
        print(f"database at revision {after}{was}")
    except (ConfigError, MonitoringError) as exc:
        print(f"monitoring db: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    return 0
