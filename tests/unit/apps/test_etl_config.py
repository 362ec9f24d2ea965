"""ETL configuration: defaults, and one clear message per bad value."""

import pytest

from apps.cli import main
from apps.env import ConfigError
from apps.etl.config import load_etl_config


def test_defaults_follow_the_documented_table() -> None:
    config = load_etl_config({})
    assert config.kafka_topic == "prometheusdata"
    assert config.cycle_seconds == 300 and config.metadata_seconds == 86400
    assert config.settings.windows == (3600, 10800, 43200)
    assert config.settings.horizon_seconds == 600
    assert config.settings.horizon_steps == 10
    assert [s.to_promql() for s in config.settings.selectors] == ['{__name__=~".+"}']
    assert config.settings.forecast_selectors == config.settings.selectors


def test_forecast_selectors_can_be_narrowed_or_switched_off() -> None:
    narrow = load_etl_config({"MONITORING_FORECAST_SELECTORS": "node_load1; up"})
    assert [s.metric_name for s in narrow.settings.forecast_selectors] == [
        "node_load1",
        "up",
    ]
    off = load_etl_config({"MONITORING_FORECAST_SELECTORS": "none"})
    assert off.settings.forecast_selectors == ()


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        load_etl_config(
            {
                "MONITORING_PROMETHEUS_URL": "localhost:9090",
                "MONITORING_SERIES_SELECTORS": 'node_load1{instance="a"',
                "MONITORING_WINDOWS": "1h,banana",
                "MONITORING_CYCLE_SECONDS": "0",
                "MONITORING_KAFKA_TOPIC": "bad topic",
                "MONITORING_KAFKA_BOOTSTRAP": "nohost",
                "MONITORING_FORECAST_HORIZON": "10x",
            }
        )
    message = str(err.value)
    for name in (
        "PROMETHEUS_URL",
        "SERIES_SELECTORS",
        "WINDOWS",
        "CYCLE_SECONDS",
        "KAFKA_TOPIC",
        "KAFKA_BOOTSTRAP",
        "FORECAST_HORIZON",
    ):
        assert f"MONITORING_{name}=" in message
    assert len(err.value.problems) == 7
    assert len(message.splitlines()) == 1  # one line, whatever the number


def test_horizon_must_be_a_whole_number_of_steps() -> None:
    with pytest.raises(ConfigError, match="whole number of MONITORING_FORECAST_STEP"):
        load_etl_config({"MONITORING_FORECAST_HORIZON": "90s"})


def test_the_cli_prints_the_problem_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITORING_WINDOWS", "forever")
    assert main(["etl", "--once"]) == 2
    err = capsys.readouterr().err
    assert "MONITORING_WINDOWS='forever'" in err
    assert "Traceback" not in err
