"""``monitoring api``: the REST API under gunicorn (``gthread`` workers).

Request metrics use prometheus_client's multiprocess mode, so ``/metrics`` sums
every worker: ``PROMETHEUS_MULTIPROC_DIR`` must be set before prometheus_client
is imported, hence the late imports in ``run``.
"""

import os
import shutil
import sys
import tempfile

from apps.env import ConfigError

_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def run() -> int:
    """Serve until SIGTERM/SIGINT; exit 2 on bad configuration."""
    from apps.api.config import load_api_config

    try:
        config = load_api_config()
    except ConfigError as exc:
        print(f"monitoring api: {exc}", file=sys.stderr)
        return 2
    created = None
    if not os.environ.get(_MULTIPROC):
        created = os.environ[_MULTIPROC] = tempfile.mkdtemp(prefix="monitoring-api-")
    from apps.api.server import ApiServer

    try:
        ApiServer(config).run()
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    finally:
        if created:
            shutil.rmtree(created, ignore_errors=True)
    return 0
