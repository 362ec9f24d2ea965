"""Every setting more than one service reads, parsed here and nowhere else.

A service's own ``config.py`` reads its own variables and calls these readers
for the shared ones, so two services cannot drift apart on a default, a
pattern or a message (ADR 0023).
"""

from collections.abc import Mapping
from pathlib import Path

import attrs

from adapters.grpc.client import SlaClient
from apps.env import Env

LOG_LEVEL = "MONITORING_LOG_LEVEL"
PROMETHEUS_URL = "MONITORING_PROMETHEUS_URL"
API_TOKEN = "MONITORING_API_TOKEN"
"""Read by the REST API's loader and ``monitoring etl-shards``; named in the
exposure warnings of two commands."""
SLA_TOKEN = "MONITORING_SLA_TOKEN"
SLA_ADDRESS = "MONITORING_SLA_ADDRESS"
DEFAULT_WINDOWS = "1h,3h,12h"
BIND_HOST = "MONITORING_BIND_HOST"
DEFAULT_BIND_HOST = "127.0.0.1"
"""Only this machine can connect unless the operator says otherwise (ADR 0021)."""
HOST_PORTS = r"[A-Za-z0-9.\-\[\]:]+:\d{1,5}(,[A-Za-z0-9.\-\[\]:]+:\d{1,5})*"
TOPIC = r"[A-Za-z0-9._\-]{1,249}"
DEFAULT_SLA_ADDRESS = "127.0.0.1:50051"
ADDRESS_PATTERN = r"\S+:\d+"
"""``host:port`` (a name, an IPv4 address or a bracketed IPv6 one, then a port)."""
TOKEN_PATTERN = r"[\x21-\x7e]{0,512}"
"""Printable ASCII without spaces: a bearer token as it goes in metadata."""


def read_log_level(environ: Mapping[str, str]) -> str:
    """``MONITORING_LOG_LEVEL``, read before anything can be logged."""
    return environ.get(LOG_LEVEL, "INFO")


def read_database_url(env: Env) -> str:
    """``MONITORING_DATABASE_URL``: storage, REST API, SLA manager, ``db``."""
    return env.text(
        "MONITORING_DATABASE_URL",
        "sqlite:///monitoring.db",
        r"(mysql\+pymysql|sqlite)://.*",
        "a mysql+pymysql:// or sqlite:// URL",
    )


def read_database_migrate(env: Env) -> bool:
    """``MONITORING_DATABASE_MIGRATE``: storage and SLA manager."""
    return env.flag("MONITORING_DATABASE_MIGRATE", True)


def read_prometheus_url(env: Env) -> str:
    """``MONITORING_PROMETHEUS_URL``: ETL and SLA manager."""
    return env.url(PROMETHEUS_URL, "http://127.0.0.1:9090")


def read_console_prometheus_url(env: Env) -> str | None:
    """``MONITORING_PROMETHEUS_URL`` where it is optional: the REST API's console
    reads the alerts there (ADR 0057); unset, it has none."""
    return env.optional_url(PROMETHEUS_URL)


def read_prometheus_timeout(env: Env) -> int:
    """``MONITORING_PROMETHEUS_TIMEOUT`` in seconds: ETL and SLA manager."""
    return env.duration("MONITORING_PROMETHEUS_TIMEOUT", "30s")


def read_windows(env: Env) -> tuple[int, ...]:
    """``MONITORING_WINDOWS``: computed by the ETL, the only ones the API serves."""
    return env.durations("MONITORING_WINDOWS", DEFAULT_WINDOWS)


def read_bind_host(env: Env) -> str:
    """``MONITORING_BIND_HOST``: where every listener of every service binds."""
    return env.host(BIND_HOST, DEFAULT_BIND_HOST)


def read_kafka_bootstrap(env: Env) -> str:
    """``MONITORING_KAFKA_BOOTSTRAP``: ETL and storage."""
    return env.text(
        "MONITORING_KAFKA_BOOTSTRAP",
        "127.0.0.1:9092",
        HOST_PORTS,
        "host:port[,host:port...]",
    )


def read_kafka_topic(env: Env) -> str:
    """``MONITORING_KAFKA_TOPIC``: ETL and storage."""
    return env.text(
        "MONITORING_KAFKA_TOPIC", "prometheusdata", TOPIC, "a Kafka topic name"
    )


@attrs.frozen(kw_only=True)
class KafkaSettings:
    """Where the results topic is."""

    bootstrap: str
    topic: str


def load_kafka_settings(env: Env) -> KafkaSettings:
    """``MONITORING_KAFKA_BOOTSTRAP`` and ``MONITORING_KAFKA_TOPIC``."""
    return KafkaSettings(
        bootstrap=read_kafka_bootstrap(env), topic=read_kafka_topic(env)
    )


def read_sla_token(env: Env) -> str | None:
    """``MONITORING_SLA_TOKEN``: required by the SLA manager, sent by its clients."""
    return (
        env.text(SLA_TOKEN, "", TOKEN_PATTERN, "printable ASCII without spaces") or None
    )


def read_api_token(env: Env) -> str | None:
    """``MONITORING_API_TOKEN``: required by the REST API, sent by its clients."""
    return (
        env.text(API_TOKEN, "", TOKEN_PATTERN, "printable ASCII without spaces") or None
    )


@attrs.frozen(kw_only=True)
class SlaClientSettings:
    """Address, credentials and TLS of the SLA manager, validated."""

    address: str
    token: str | None = attrs.field(repr=False, default=None)
    ca_file: Path | None = None
    tls: bool = False
    server_name: str | None = None

    def client(
        self, timeout_seconds: float = 30.0, reconnect_seconds: float | None = None
    ) -> SlaClient:
        """A client with these settings (see ``SlaClient`` for the two waits)."""
        return SlaClient(
            self.address,
            token=self.token,
            ca_file=self.ca_file,
            tls=self.tls,
            server_name=self.server_name,
            timeout_seconds=timeout_seconds,
            reconnect_seconds=reconnect_seconds,
        )


def read_sla_client_settings(env: Env, default_address: str) -> SlaClientSettings:
    """``MONITORING_SLA_*`` of a client (the ETL, ``monitoring sla``).

    Problems are collected in ``env.errors``.
    """
    address = env.text(
        SLA_ADDRESS, default_address, f"({ADDRESS_PATTERN})?", "host:port"
    )
    token = read_sla_token(env)
    ca = env.text("MONITORING_SLA_TLS_CA", "")
    if ca and not Path(ca).is_file():
        env.errors.append(f"MONITORING_SLA_TLS_CA={ca!r}: no such file")
    return SlaClientSettings(
        address=address,
        token=token,
        ca_file=Path(ca) if ca else None,
        tls=env.flag("MONITORING_SLA_TLS", False),
        server_name=env.text("MONITORING_SLA_TLS_SERVER_NAME", "") or None,
    )
