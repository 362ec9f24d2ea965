"""The SLA manager's settings, from ``MONITORING_*`` environment variables."""

from collections.abc import Mapping
from pathlib import Path

import attrs

from apps.env import Env
from apps.settings import (
    read_bind_host,
    read_database_migrate,
    read_database_url,
    read_prometheus_timeout,
    read_prometheus_url,
    read_sla_token,
)

RULES_FILE = "MONITORING_RULES_FILE"
RELOAD_URL = "MONITORING_PROMETHEUS_RELOAD_URL"


@attrs.frozen(kw_only=True)
class SlaManagerConfig:
    """Everything ``monitoring sla-manager`` needs, validated."""

    database_url: str
    migrate: bool
    prometheus_url: str
    prometheus_timeout_seconds: int
    port: int
    host: str
    """Where the gRPC and metrics servers listen (MONITORING_BIND_HOST)."""
    token: str | None = attrs.field(repr=False)
    tls_cert: Path | None
    tls_key: Path | None
    max_objectives: int
    metrics_port: int
    coverage_floor: float
    """A share: below it a series is insufficient_data."""
    refresh_seconds: int = 60
    """How often the SLO state on /metrics is refreshed (ADR 0043)."""
    series_label_cap: int = 0
    """Per-series gauges only for objectives matching at most this many series."""
    rules_file: Path | None = None
    """Where the rules of every SLA are kept up to date; None: nowhere (ADR 0048)."""
    prometheus_reload_url: str | None = None
    """Posted to after each change of the rules file; None: no reload."""


def _file(env: Env, name: str) -> Path | None:
    raw = env.text(name, "")
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        env.errors.append(f"{name}={raw!r}: no such file")
    return path


def _rules_file(env: Env) -> Path | None:
    raw = env.text(RULES_FILE, "")
    if not raw:
        return None
    path = Path(raw)
    if not path.parent.is_dir():
        env.errors.append(f"{RULES_FILE}={raw!r}: the directory does not exist")
    elif path.is_dir():
        env.errors.append(f"{RULES_FILE}={raw!r}: a directory, give a file name")
    return path


def _reload_url(env: Env, rules_file: Path | None) -> str | None:
    raw = env.text(RELOAD_URL, "")
    if not raw:
        return None
    if rules_file is None:
        env.errors.append(
            f"{RELOAD_URL} needs {RULES_FILE}: set the rule file Prometheus "
            "loads too, or neither"
        )
    return env.url(RELOAD_URL, raw)


def load_sla_manager_config(
    environ: Mapping[str, str] | None = None,
) -> SlaManagerConfig:
    """Read and validate; raises ConfigError naming every bad variable."""
    env = Env(environ)
    config = SlaManagerConfig(
        database_url=read_database_url(env),
        migrate=read_database_migrate(env),
        prometheus_url=read_prometheus_url(env),
        prometheus_timeout_seconds=read_prometheus_timeout(env),
        port=env.integer("MONITORING_GRPC_PORT", 50051, minimum=0, maximum=65535),
        host=read_bind_host(env),
        token=read_sla_token(env),
        tls_cert=_file(env, "MONITORING_GRPC_TLS_CERT"),
        tls_key=_file(env, "MONITORING_GRPC_TLS_KEY"),
        max_objectives=env.integer("MONITORING_SLA_MAX_OBJECTIVES", 100, maximum=1000),
        metrics_port=env.integer(
            "MONITORING_SLA_METRICS_PORT", 9466, minimum=0, maximum=65535
        ),
        coverage_floor=env.integer(
            "MONITORING_SLA_COVERAGE_FLOOR", 90, minimum=0, maximum=100
        )
        / 100,
        refresh_seconds=env.integer(
            "MONITORING_SLA_REFRESH_SECONDS", 60, minimum=1, maximum=86400
        ),
        series_label_cap=env.integer(
            "MONITORING_SLA_SERIES_LABEL_CAP", 0, minimum=0, maximum=10000
        ),
        rules_file=(rules_file := _rules_file(env)),
        prometheus_reload_url=_reload_url(env, rules_file),
    )
    if (config.tls_cert is None) != (config.tls_key is None):
        env.errors.append(
            "MONITORING_GRPC_TLS_CERT and MONITORING_GRPC_TLS_KEY go together: "
            "set both for TLS, or neither"
        )
    env.raise_if_invalid()
    return config
