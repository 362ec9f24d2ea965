"""KafkaResultPublisher: the contract on a real broker, and broker outages."""

import json
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from adapters.in_memory.clock import FixedClock
from adapters.kafka.result_publisher import (
    KafkaResultPublisher,
    ensure_topic,
    producer_config,
)
from monitoring_core.errors import PublishError
from monitoring_core.ports import ResultPublisher
from tests.contracts.result_publisher_contract import (
    Delivered,
    ResultPublisherContract,
    results_for,
)
from tests.support import factories
from tests.support.kafka import private_kafka
from tests.support.prometheus import free_port
from tests.support.schemas import validate


def read_topic(bootstrap: str, topic: str, expected: int) -> Delivered:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"r-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    out: Delivered = []
    idle = 0
    try:
        while idle < 5 and len(out) <= expected:
            msg = consumer.poll(1.0)
            if msg is None:
                idle += 1 if len(out) >= expected else 0
                continue
            body = json.loads(msg.value())
            validate(body)
            out.append((msg.key().decode(), body["type"]))
    finally:
        consumer.close()
    return out


def publisher_for(
    bootstrap: str, topic: str, buffer: int = 100_000, wait: float = 5.0
) -> KafkaResultPublisher:
    return KafkaResultPublisher(
        # Quiet: some tests aim at a closed port on purpose, and librdkafka would
        # keep logging connection failures until the interpreter exits.
        Producer({**producer_config(bootstrap, buffer), "log_level": 0}),
        topic,
        FixedClock(factories.NOW),
        buffer_wait_seconds=wait,
    )


class TestKafkaResultPublisher(ResultPublisherContract):
    @pytest.fixture
    def publisher(self, kafka_bootstrap: str, kafka_topic: str) -> ResultPublisher:
        ensure_topic(kafka_bootstrap, kafka_topic, 3)
        self.bootstrap, self.topic = kafka_bootstrap, kafka_topic
        return publisher_for(kafka_bootstrap, kafka_topic)

    def delivered(self, publisher: ResultPublisher) -> Delivered:
        assert isinstance(publisher, KafkaResultPublisher)
        return read_topic(self.bootstrap, self.topic, publisher.delivered)


def test_a_full_buffer_refuses_and_counts_what_is_undelivered() -> None:
    publisher = publisher_for(
        f"127.0.0.1:{free_port()}", "nowhere", buffer=10, wait=0.5
    )
    with pytest.raises(PublishError, match="11 of 21 results not accepted"):
        publisher.publish(results_for(10))
    assert publisher.pending == 10
    assert publisher.flush(1) == 10


def test_results_buffered_while_the_broker_is_away_are_delivered_once_it_comes(
    tmp_path: Path,
) -> None:
    port, controller = free_port(), free_port()
    publisher = publisher_for(f"127.0.0.1:{port}", "late")
    publisher.publish(results_for(30))
    assert publisher.flush(2) == 61, "nothing can be delivered without a broker"
    with private_kafka(tmp_path, port, controller) as bootstrap:
        assert publisher.flush(90) == 0
        assert publisher.delivered == 61 and publisher.failed == 0
        arrived = read_topic(bootstrap, "late", 61)
    assert len(arrived) == 61
    assert sorted(arrived).count(("abc", "etl_run")) == 1
