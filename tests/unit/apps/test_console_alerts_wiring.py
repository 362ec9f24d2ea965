"""Where the console reads alerts: MONITORING_PROMETHEUS_URL (ADR 0057).

``monitoring api`` reads it as optional (unset: no alerts, the pages say so);
``monitoring run`` uses the Prometheus its ETL reads, default included.
"""

import time
from pathlib import Path

import pytest

from adapters.prometheus.alert_states import PrometheusAlertStates
from apps.api.config import load_api_config
from apps.api.containers import ApiContainer
from apps.env import ConfigError
from apps.run.config import load_run_config
from apps.run.containers import AllInOneContainer


def test_the_api_has_no_alerts_without_a_prometheus_url() -> None:
    config = load_api_config({})
    assert config.prometheus_url is None
    assert ApiContainer(config=config).alerts() is None


def test_the_api_reads_alerts_from_the_prometheus_url_given() -> None:
    config = load_api_config({"MONITORING_PROMETHEUS_URL": "http://prom:9090/"})
    assert config.prometheus_url == "http://prom:9090"
    alerts = ApiContainer(config=config).alerts()
    assert alerts is not None
    assert isinstance(alerts.states, PrometheusAlertStates)
    assert alerts.page_url == "http://prom:9090/alerts"


@pytest.mark.parametrize("raw", ["ftp://prom", "prom:9090", "http://"])
def test_a_bad_prometheus_url_stops_the_api_with_one_line(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_api_config({"MONITORING_PROMETHEUS_URL": raw})
    message = str(caught.value)
    assert "\n" not in message
    assert f"MONITORING_PROMETHEUS_URL={raw!r}: must be an http:// or https://" in (
        message
    )


@pytest.mark.parametrize(
    ("environ", "page"),
    [
        ({}, "http://127.0.0.1:9090/alerts"),
        (
            {"MONITORING_PROMETHEUS_URL": "https://p.example"},
            "https://p.example/alerts",
        ),
    ],
)
def test_monitoring_run_reads_the_alerts_of_the_etls_prometheus(
    tmp_path: Path, environ: dict[str, str], page: str
) -> None:
    config = load_run_config(
        {
            "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "MONITORING_GRPC_PORT": "0",
            **environ,
        }
    )
    alerts = AllInOneContainer(config=config).api.alerts()
    assert alerts is not None and alerts.page_url == page


def test_a_refused_connection_is_unavailable_at_once_not_after_retries() -> None:
    """The library retries with backoff by default (6 s measured); a page must not."""
    from monitoring_core.errors import SourceUnavailable
    from tests.support.prometheus import free_port

    url = f"http://127.0.0.1:{free_port()}"
    alerts = ApiContainer(
        config=load_api_config({"MONITORING_PROMETHEUS_URL": url})
    ).alerts()
    assert alerts is not None
    started = time.monotonic()
    with pytest.raises(SourceUnavailable):
        alerts.states.active()
    assert time.monotonic() - started < 1.0
