"""MONITORING_BIND_HOST: read once, loopback by default, a warning when exposed."""

import logging

import pytest

from apps.api.config import load_api_config
from apps.env import ConfigError, Env
from apps.etl.config import load_etl_config
from apps.listen import address, url_host, warn_if_exposed
from apps.run.config import load_run_config
from apps.settings import read_bind_host
from apps.sla.config import load_sla_manager_config
from apps.storage.config import load_storage_config

LOADERS = [
    load_etl_config,
    load_storage_config,
    load_api_config,
    load_sla_manager_config,
]


@pytest.mark.parametrize("load", LOADERS)
def test_every_service_binds_loopback_by_default(load: object) -> None:
    assert load({}).host == "127.0.0.1"  # type: ignore[operator]


@pytest.mark.parametrize("load", LOADERS)
def test_every_service_reads_the_same_variable(load: object) -> None:
    config = load({"MONITORING_BIND_HOST": "0.0.0.0"})  # type: ignore[operator]
    assert config.host == "0.0.0.0"


@pytest.mark.parametrize(
    ("raw", "host"),
    [("::", "::"), ("0:0::0:1", "::1"), (" 10.0.0.7 ", "10.0.0.7")],
)
def test_addresses_are_normalised(raw: str, host: str) -> None:
    assert read_bind_host(Env({"MONITORING_BIND_HOST": raw})) == host


@pytest.mark.parametrize("raw", ["localhost", "", "127.0.0.256", "*", "[::1]"])
def test_anything_but_an_ip_address_is_refused_in_one_line(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_run_config({"MONITORING_BIND_HOST": raw})
    assert caught.value.problems == [
        f"MONITORING_BIND_HOST={raw!r}: must be an IP address such as "
        "127.0.0.1, 0.0.0.0 or ::"
    ]
    assert str(caught.value) == "invalid configuration: " + caught.value.problems[0]


def test_several_problems_are_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_run_config({"MONITORING_BIND_HOST": "x", "MONITORING_API_PORT": "y"})
    assert len(caught.value.problems) == 2
    assert "\n" not in str(caught.value)
    assert "; " in str(caught.value)


@pytest.mark.parametrize(
    ("host", "port", "text", "url"),
    [
        ("127.0.0.1", 8080, "127.0.0.1:8080", "127.0.0.1"),
        ("0.0.0.0", 1, "0.0.0.0:1", "127.0.0.1"),
        ("::", 50051, "[::]:50051", "127.0.0.1"),
        ("::1", 9, "[::1]:9", "[::1]"),
        ("192.0.2.2", 80, "192.0.2.2:80", "192.0.2.2"),
    ],
)
def test_addresses_as_text_and_in_urls(
    host: str, port: int, text: str, url: str
) -> None:
    assert address(host, port) == text
    assert url_host(host) == url


@pytest.mark.parametrize(
    ("host", "token", "warned"),
    [
        ("127.0.0.1", None, False),
        ("127.0.0.2", None, False),
        ("::1", None, False),
        ("0.0.0.0", "secret", False),
        ("0.0.0.0", None, True),
        ("::", None, True),
        ("192.0.2.2", "", True),
    ],
)
def test_a_warning_only_when_reachable_without_a_token(
    caplog: pytest.LogCaptureFixture, host: str, token: str | None, warned: bool
) -> None:
    log = logging.getLogger("test.listen")
    with caplog.at_level(logging.INFO, logger="test.listen"):
        result = warn_if_exposed(log, "the API", "H:1", host, "MONITORING_X", token)
    assert result is warned
    expected = [
        (
            logging.WARNING,
            "the API listens on H:1 without MONITORING_X: "
            "anyone who can reach this address can use it",
        )
    ]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == (
        expected if warned else []
    )
