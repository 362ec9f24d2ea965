"""``monitoring storage``: consume the results topic into the database."""

import gc
import logging
import sys

from adapters.rest.health import create_health_app
from apps.env import ConfigError
from apps.http_server import ListenError, serve_in_background
from apps.signals import stop_on_signals
from apps.storage.config import load_storage_config
from apps.storage.containers import StorageContainer
from monitoring_core.errors import MonitoringError

log = logging.getLogger(__name__)
YOUNG_GENERATION = 50_000
"""Allocations between two young collections of the cyclic garbage collector."""


def tune_gc() -> None:
    """Keep the cyclic garbage collector from scanning the process per batch.

    A batch makes tens of thousands of short-lived objects (messages, results,
    rows) that reference counting frees. With the defaults the collector ran a
    young collection every 700 allocations and a full one, over every object of
    the process (SQLAlchemy, the Kafka client, ...), every few batches: a tenth
    of the CPU of ingesting. The objects alive after start-up are frozen out of
    its sight and the young generation is collected every 50,000 allocations.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, 20, 20)


def run() -> int:
    """Run until SIGTERM/SIGINT; exit 2 on bad configuration, 1 on a dead start."""
    try:
        config = load_storage_config()
    except ConfigError as exc:
        print(f"monitoring storage: {exc}", file=sys.stderr)
        return 2
    container = StorageContainer(config=config)
    stop_on_signals(container.stop())
    try:
        container.init_resources()
    except MonitoringError as exc:
        print(f"monitoring storage: cannot start: {exc}", file=sys.stderr)
        return 1
    runner = container.runner()
    app = create_health_app(runner.health, container.registry())
    tune_gc()
    try:
        with serve_in_background(app, config.port, config.host):
            log.info(
                "storing %s into %s",
                config.kafka.topic,
                config.database_url.split("@")[-1],
            )
            runner.run()
    except ListenError as exc:
        print(f"monitoring storage: cannot start: {exc}", file=sys.stderr)
        return 1
    finally:
        container.shutdown_resources()
    log.info("storage stopped after %d messages", runner.stored)
    return 0
