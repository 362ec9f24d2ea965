"""The API service's settings, from ``MONITORING_*`` environment variables."""

from collections.abc import Mapping

import attrs

from apps.env import Env
from apps.settings import (
    SlaClientSettings,
    read_api_token,
    read_bind_host,
    read_console_prometheus_url,
    read_database_url,
    read_sla_client_settings,
    read_windows,
)

DEFAULT_CACHE_SECONDS = 5
"""How long a worker reuses a single-series read by default: far below a cycle."""


@attrs.frozen(kw_only=True)
class ApiConfig:
    """Everything the API service needs, validated."""

    database_url: str
    port: int
    host: str
    """Where the API listens (MONITORING_BIND_HOST)."""
    windows: tuple[int, ...]
    """The windows the ETL computes; history refuses any other."""
    workers: int
    threads: int
    cache_seconds: int
    token: str | None = attrs.field(repr=False)
    sla: SlaClientSettings | None = None
    """The SLA manager the console's SLA pages ask over gRPC (ADR 0056); None
    when MONITORING_SLA_ADDRESS is unset: the SLA pages say how to set it."""
    prometheus_url: str | None = None
    """The Prometheus whose alerts the console shows (ADR 0057); None when
    MONITORING_PROMETHEUS_URL is unset: alert state is shown as unknown."""


def load_api_config(environ: Mapping[str, str] | None = None) -> ApiConfig:
    """Read and validate; raises ConfigError naming every bad variable."""
    env = Env(environ)
    config = ApiConfig(
        database_url=read_database_url(env),
        port=env.integer("MONITORING_API_PORT", 8080, minimum=0, maximum=65535),
        host=read_bind_host(env),
        windows=read_windows(env),
        workers=env.integer("MONITORING_API_WORKERS", 2, maximum=64),
        threads=env.integer("MONITORING_API_THREADS", 2, maximum=64),
        cache_seconds=env.integer(
            "MONITORING_API_CACHE_SECONDS",
            DEFAULT_CACHE_SECONDS,
            minimum=0,
            maximum=300,
        ),
        token=read_api_token(env),
        sla=_sla(env),
        prometheus_url=read_console_prometheus_url(env),
    )
    env.raise_if_invalid()
    return config


def _sla(env: Env) -> SlaClientSettings | None:
    settings = read_sla_client_settings(env, "")
    return settings if settings.address else None
