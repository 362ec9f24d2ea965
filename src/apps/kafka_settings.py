"""Kafka settings shared by the services that talk to the results topic."""

import attrs

from apps.env import Env

HOST_PORTS = r"[A-Za-z0-9.\-\[\]:]+:\d{1,5}(,[A-Za-z0-9.\-\[\]:]+:\d{1,5})*"
TOPIC = r"[A-Za-z0-9._\-]{1,249}"


@attrs.frozen(kw_only=True)
class KafkaSettings:
    """Where the results topic is."""

    bootstrap: str
    topic: str


def load_kafka_settings(env: Env) -> KafkaSettings:
    """``MONITORING_KAFKA_BOOTSTRAP`` and ``MONITORING_KAFKA_TOPIC``."""
    return KafkaSettings(
        bootstrap=env.text(
            "MONITORING_KAFKA_BOOTSTRAP",
            "127.0.0.1:9092",
            HOST_PORTS,
            "host:port[,host:port...]",
        ),
        topic=env.text(
            "MONITORING_KAFKA_TOPIC", "prometheusdata", TOPIC, "a Kafka topic name"
        ),
    )
