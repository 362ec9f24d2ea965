"""``monitoring sla-manager``: the SLA manager's gRPC server."""

import logging
import sys
import threading

from apps.env import ConfigError
from apps.listen import address, warn_if_exposed
from apps.settings import SLA_TOKEN
from apps.signals import stop_on_signals
from apps.sla.config import load_sla_manager_config
from apps.sla.containers import SlaManagerContainer
from monitoring_core.errors import MonitoringError

log = logging.getLogger(__name__)


def run() -> int:
    """Serve until SIGTERM/SIGINT; exit 2 on bad configuration, 1 on a dead start."""
    try:
        config = load_sla_manager_config()
    except ConfigError as exc:
        print(f"monitoring sla-manager: {exc}", file=sys.stderr)
        return 2
    container = SlaManagerContainer(config=config)
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        container.init_resources()
    except (MonitoringError, RuntimeError) as exc:
        print(f"monitoring sla-manager: cannot start: {exc}", file=sys.stderr)
        container.shutdown_resources()
        return 1
    bound = address(config.host, container.server().port)
    log.info(
        "SLA manager listening on %s (%s, %s)",
        bound,
        "TLS" if config.tls_cert else "plaintext",
        "token required" if config.token else "no token",
    )
    warn_if_exposed(log, "the SLA manager", bound, config.host, SLA_TOKEN, config.token)
    try:
        stop.wait()
    finally:
        container.shutdown_resources()
    log.info("SLA manager stopped")
    return 0
