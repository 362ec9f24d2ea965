"""A results topic read as it fills, by a test."""

import contextlib
import json
import time
from typing import Any

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient


class Topic:
    """Every message published on one topic, read as it arrives."""

    def __init__(self, bootstrap: str, name: str) -> None:
        self.name = name
        self._bootstrap = bootstrap
        self.messages: list[dict[str, Any]] = []
        self._seen: set[tuple[int | None, int | None]] = set()
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"restart-{name}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 1000,
            }
        )
        self._consumer.subscribe([name])

    def read(self) -> list[dict[str, Any]]:
        """Poll what arrived since the last read; every message so far."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            message = self._consumer.poll(0.2)
            if message is None or message.error() is not None:
                continue
            # A rebalance of this reader (the topic appears after it
            # subscribed) reads again from the start: keep each message once.
            where = (message.partition(), message.offset())
            if where in self._seen:
                continue
            self._seen.add(where)
            self.messages.append(json.loads(message.value() or b"{}"))
        return self.messages

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.read() if m["type"] == kind]

    def close(self) -> None:
        """Stop reading and drop the topic."""
        self._consumer.close()
        admin = AdminClient({"bootstrap.servers": self._bootstrap})
        for done in admin.delete_topics([self.name], operation_timeout=10).values():
            with contextlib.suppress(Exception):  # never created: nothing to drop
                done.result(timeout=15)
