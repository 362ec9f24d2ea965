"""The ETL's settings, read from ``MONITORING_*`` environment variables."""

import hashlib
import os
import socket
from collections.abc import Mapping
from pathlib import Path

import attrs

from adapters.prometheus.metric_source import DEFAULT_BATCH_SERIES
from apps.env import Env
from apps.settings import (
    SlaClientSettings,
    read_bind_host,
    read_kafka_bootstrap,
    read_kafka_topic,
    read_prometheus_timeout,
    read_prometheus_url,
    read_sla_client_settings,
    read_windows,
)
from monitoring_core.selectors import EVERY_SERIES
from monitoring_core.services.settings import EtlSettings
from monitoring_core.sharding import DEFAULT_SHARD_LABEL, DEFAULT_SHARDS, Sharding


@attrs.frozen(kw_only=True)
class EtlConfig:
    """Everything the ETL service needs, validated."""

    prometheus_url: str
    prometheus_timeout_seconds: int
    prometheus_batch_series: int
    prometheus_concurrency: int
    counter_rate_seconds: int
    kafka_bootstrap: str
    kafka_topic: str
    kafka_partitions: int
    kafka_buffer_messages: int
    kafka_flush_seconds: int
    cycle_seconds: int
    metadata_seconds: int
    metadata_retry_seconds: int
    """Retry period of missing or insufficient metadata; 0: only full runs."""
    forecast_engine: str
    metrics_port: int
    host: str
    """Where the metrics server listens (MONITORING_BIND_HOST)."""
    settings: EtlSettings
    sla: SlaClientSettings | None
    """Where to ask for the SLA set; None when MONITORING_SLA_ADDRESS is unset."""
    state_path: Path | None = None
    """The SQLite file of the ETL's durable state (pending forecasts, the last
    SLA target set; ADR 0047); None keeps it in memory only."""
    shard_group: str | None = "prometheusdata.etl-workers"
    """The Kafka consumer group the workers share the shards through (ADR
    0055); None (``none``): this ETL analyses every series on its own."""
    shard_topic: str = "prometheusdata.etl-shards"
    worker_id: str = "etl"
    """This worker's static instance id in the group."""
    sharding: Sharding = attrs.field(factory=Sharding)


STATE_PATH = "MONITORING_ETL_STATE_PATH"
DEFAULT_STATE_PATH = "~/.local/state/monitoring/etl.sqlite"
"""Under ``$XDG_STATE_HOME`` instead when that is set (and the setting is not)."""
NO_STATE = "none"


def _settings(env: Env) -> EtlSettings:
    selectors = env.selectors("MONITORING_SERIES_SELECTORS", EVERY_SERIES.to_promql())
    # Unset means "forecast what is analysed"; "none" leaves only the SLA set.
    forecast = env.selectors_or_none("MONITORING_FORECAST_SELECTORS")
    return EtlSettings(
        selectors=selectors,
        forecast_selectors=selectors if forecast is None else forecast,
        windows=read_windows(env),
        horizon_seconds=env.duration("MONITORING_FORECAST_HORIZON", "10m"),
        forecast_step_seconds=env.duration("MONITORING_FORECAST_STEP", "1m"),
        forecast_lookback_seconds=env.duration("MONITORING_FORECAST_LOOKBACK", "6h"),
        metadata_lookback_seconds=env.duration("MONITORING_METADATA_LOOKBACK", "24h"),
        metadata_step_seconds=env.duration("MONITORING_METADATA_STEP", "5m"),
    )


def _check(env: Env, settings: EtlSettings) -> None:
    step = settings.forecast_step_seconds
    if settings.horizon_seconds % step:
        env.errors.append(
            "MONITORING_FORECAST_HORIZON must be a whole number of "
            f"MONITORING_FORECAST_STEP ({step}s)"
        )
    if settings.forecast_lookback_seconds < 10 * settings.horizon_seconds:
        env.errors.append(
            "MONITORING_FORECAST_LOOKBACK must be at least ten forecast horizons"
        )


def _sla(env: Env) -> SlaClientSettings | None:
    settings = read_sla_client_settings(env, "")
    return settings if settings.address else None


def _state_path(env: Env, environ: Mapping[str, str]) -> Path | None:
    raw = env.text(STATE_PATH, DEFAULT_STATE_PATH, r".*\S.*", "a file path or none")
    if raw.strip().lower() == NO_STATE:
        return None
    # Looked up with "in", not .get, so --help does not list it as a setting.
    if STATE_PATH not in environ and "XDG_STATE_HOME" in environ:
        xdg = environ["XDG_STATE_HOME"]
        if os.path.isabs(xdg):
            return Path(xdg) / "monitoring" / "etl.sqlite"
    try:
        return Path(raw).expanduser().absolute()
    except RuntimeError:  # "~" without a home folder
        env.errors.append(f"{STATE_PATH}={raw!r}: no home folder to expand ~ in")
        return None


_GROUP_ID = r"[A-Za-z0-9._-]{1,200}"


def _worker_id(env: Env, state_path: Path | None) -> str:
    """Given, or the host name and a hash of the state file: two workers on one
    host need two state files, and a restarted worker keeps its id."""
    given = env.text(
        "MONITORING_ETL_INSTANCE_ID", "", rf"|{_GROUP_ID}", "letters, digits, . _ -"
    )
    if given:
        return given
    where = str(state_path) if state_path is not None else "memory"
    host = "".join(
        c if c.isalnum() or c in "._-" else "-" for c in socket.gethostname()
    )
    return f"{host or 'etl'}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"


def _sharding(env: Env) -> Sharding:
    return Sharding(
        count=env.integer("MONITORING_ETL_SHARDS", DEFAULT_SHARDS, maximum=10_000),
        label=env.text(
            "MONITORING_ETL_SHARD_LABEL",
            DEFAULT_SHARD_LABEL,
            r"[A-Za-z_][A-Za-z0-9_]*",
            "a label name",
        ),
    )


def _group(env: Env, topic: str) -> str | None:
    """By default one group per results topic: ETLs that publish to the same
    topic share the series; two deployments on one broker never do."""
    group = env.text(
        "MONITORING_ETL_GROUP",
        f"{topic}.etl-workers",
        rf"none|{_GROUP_ID}",
        "a group id (letters, digits, . _ -) or none",
    )
    return None if group == "none" else group


def load_etl_config(environ: Mapping[str, str] | None = None) -> EtlConfig:
    """Read and validate; raises ConfigError naming every bad variable."""
    env = Env(environ)
    given = os.environ if environ is None else environ
    settings = _settings(env)
    state_path = _state_path(env, given)
    topic = read_kafka_topic(env)
    config = EtlConfig(
        prometheus_url=read_prometheus_url(env),
        prometheus_timeout_seconds=read_prometheus_timeout(env),
        prometheus_batch_series=env.integer(
            "MONITORING_PROMETHEUS_BATCH_SERIES", DEFAULT_BATCH_SERIES
        ),
        prometheus_concurrency=env.integer(
            "MONITORING_PROMETHEUS_CONCURRENCY", 2, maximum=16
        ),
        counter_rate_seconds=env.duration("MONITORING_COUNTER_RATE_WINDOW", "2m"),
        kafka_bootstrap=read_kafka_bootstrap(env),
        kafka_topic=topic,
        kafka_partitions=env.integer("MONITORING_KAFKA_PARTITIONS", 4),
        kafka_buffer_messages=env.integer(
            "MONITORING_KAFKA_BUFFER_MESSAGES", 200_000, maximum=10_000_000
        ),
        kafka_flush_seconds=env.integer("MONITORING_KAFKA_FLUSH_SECONDS", 30),
        cycle_seconds=env.integer("MONITORING_CYCLE_SECONDS", 300),
        metadata_seconds=env.integer("MONITORING_METADATA_SECONDS", 86400),
        metadata_retry_seconds=env.integer(
            "MONITORING_METADATA_RETRY_SECONDS", 3600, minimum=0
        ),
        forecast_engine=env.choice(
            "MONITORING_FORECAST_ENGINE", "vectorized", ("vectorized", "sktime")
        ),
        host=read_bind_host(env),
        metrics_port=env.integer(
            "MONITORING_ETL_METRICS_PORT", 9464, minimum=0, maximum=65535
        ),
        settings=settings,
        sla=_sla(env),
        state_path=state_path,
        shard_group=_group(env, topic),
        shard_topic=env.text(
            "MONITORING_ETL_SHARD_TOPIC",
            f"{topic}.etl-shards",
            _GROUP_ID,
            "a topic name (letters, digits, . _ -)",
        ),
        worker_id=_worker_id(env, state_path),
        sharding=_sharding(env),
    )
    _check(env, settings)
    env.raise_if_invalid()
    return config
