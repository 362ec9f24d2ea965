"""``monitoring etl``: start the ETL service, or run one cycle with ``--once``."""

import logging
import sys

import attrs

from apps.env import ConfigError
from apps.etl.config import load_etl_config
from apps.etl.containers import EtlContainer
from apps.signals import stop_on_signals
from monitoring_core.errors import MonitoringError

log = logging.getLogger(__name__)


def run(once: bool) -> int:
    """Run the ETL; the exit code is non-zero when a ``--once`` cycle failed."""
    try:
        config = load_etl_config()
    except ConfigError as exc:
        print(f"monitoring etl: {exc}", file=sys.stderr)
        return 2
    if once:  # one cycle of every series: no group to join, nobody disturbed
        config = attrs.evolve(config, shard_group=None)
    container = EtlContainer(config=config)
    # Before the resources: a SIGTERM while they start (the metrics server is
    # already up, the shard lease still joining) must stop cleanly, not kill.
    stop_on_signals(container.stop())
    try:
        container.init_resources()
    except MonitoringError as exc:
        print(f"monitoring etl: cannot start: {exc}", file=sys.stderr)
        container.shutdown_resources()
        return 1
    publisher = container.publisher()
    container.telemetry().gauge(
        "monitoring_etl_kafka_pending_messages",
        "Results waiting for a Kafka acknowledgement.",
        lambda: publisher.pending,
    )
    runner = container.runner()
    try:
        if not once:
            runner.run_forever()
            return 0
        result = runner.run_once()
        undelivered = publisher.flush(config.kafka_flush_seconds)
        for error in result.errors:
            print(f"monitoring etl: {error}", file=sys.stderr)
        if undelivered:
            print(
                f"monitoring etl: {undelivered} results not delivered to Kafka",
                file=sys.stderr,
            )
        return 0 if result.ok and not undelivered else 1
    finally:
        container.shutdown_resources()
