"""The live rule file (ADR 0048): written on change, reloaded, never left broken."""

import http.server
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
import yaml

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.prometheus.reload import PrometheusReloader, ReloadFailed
from apps.env import ConfigError
from apps.sla.config import load_sla_manager_config
from apps.sla.rule_sync import (
    EMPTY_RULES,
    NotifyingSlaRepository,
    RuleFileSync,
    RuleFileSyncer,
    rule_file_syncer,
    stale_after_seconds,
)
from apps.sla.rules_cli import DEFAULT_SLA_URL, rule_file_text
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.selectors import parse_selector
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.sla import Objective, Sla
from monitoring_core.slo import AllowedRange

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
LOG = "apps.sla.rule_sync"


class FakeReloader:
    """Records reloads; ``failure`` makes the next ones fail."""

    def __init__(self) -> None:
        self.calls = 0
        self.failure: ReloadFailed | None = None
        self.seen: list[str] = []
        self.path: Path | None = None

    def reload(self) -> None:
        self.calls += 1
        if self.path is not None:  # what Prometheus would read now
            self.seen.append(self.path.read_text())
        if self.failure is not None:
            raise self.failure


def ours(
    caplog: pytest.LogCaptureFixture, level: int = logging.ERROR
) -> list[logging.LogRecord]:
    """The rule sync's records from ``level`` up (the root logger's level is
    whatever earlier tests left, so lower ones may be captured too)."""
    return [r for r in caplog.records if r.name == LOG and r.levelno >= level]


def sla(name: str, probability: float = 0.5) -> Sla:
    return Sla(
        name=name,
        objectives=(
            Objective(
                selector=parse_selector('node_load1{job="node"}'),
                allowed=AllowedRange(lo=0.0, hi=4.0),
                target=0.99,
                window_seconds=86400,
            ),
        ),
        alerting=AlertingPolicy(predicted_breach_probability=probability),
    )


@attrs.define
class World:
    repository: InMemorySlaRepository
    reloader: FakeReloader
    sync: RuleFileSync
    path: Path

    def groups(self) -> list[str]:
        return [g["name"] for g in yaml.safe_load(self.path.read_text())["groups"]]


@pytest.fixture
def world(tmp_path: Path) -> World:
    repository = InMemorySlaRepository(FixedClock(NOW))
    reloader = FakeReloader()
    path = tmp_path / "slas.rules.yml"
    reloader.path = path
    sync = RuleFileSync(repository.all, path, reloader, 300)
    return World(repository, reloader, sync, path)


def test_at_start_the_file_is_written_and_prometheus_reloaded_once(
    world: World,
) -> None:
    world.sync.sync()
    assert world.groups() == ["monitoring-sla-manager"]
    assert world.reloader.calls == 1
    world.sync.sync()
    assert world.reloader.calls == 1 and world.sync.writes == 1, "nothing changed"


def test_an_sla_created_changed_and_deleted_moves_its_group(world: World) -> None:
    world.sync.sync()
    world.repository.put(sla("web"), None)
    world.sync.sync()
    assert world.groups() == ["monitoring-sla-web-0", "monitoring-sla-manager"]
    assert world.reloader.calls == 2
    world.repository.put(sla("web", probability=0.8), None)
    world.sync.sync()
    (group,) = yaml.safe_load(world.path.read_text())["groups"][:1]
    (breach,) = [r for r in group["rules"] if r.get("alert") == "SLOPredictedBreach"]
    assert breach["expr"].endswith("> 0.8"), "the SLA's own alerting settings"
    assert world.reloader.calls == 3
    world.repository.delete("web", None)
    world.sync.sync()
    assert world.groups() == ["monitoring-sla-manager"]
    assert world.reloader.calls == 4


def test_the_file_holds_what_monitoring_sla_rules_writes(world: World) -> None:
    world.repository.put(sla("web"), None)
    world.sync.sync()
    same = rule_file_text(world.repository.all(), 300, DEFAULT_SLA_URL, print)
    assert world.path.read_text() == same


def test_an_unreachable_prometheus_is_logged_once_and_retried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.reloader.failure = ReloadFailed("cannot reach x", rejected=False)
    with caplog.at_level(logging.INFO, LOG):
        for _ in range(3):
            world.sync.sync()
        assert world.groups() == ["monitoring-sla-manager"], "written all the same"
        assert world.reloader.calls == 3, "retried on every sync"
        errors = ours(caplog)
        assert len(errors) == 1 and errors[0].exc_info is None
        assert "cannot reach x" in errors[0].getMessage()
        world.reloader.failure = None
        world.sync.sync()
    assert world.reloader.calls == 4
    assert "up to date again" in ours(caplog, logging.INFO)[-1].getMessage()
    world.sync.sync()
    assert world.reloader.calls == 4


def test_a_refused_file_is_replaced_by_the_previous_one(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.sync.sync()
    before = world.path.read_text()
    world.repository.put(sla("web"), None)
    world.reloader.failure = ReloadFailed("answered 500: bad rule", rejected=True)
    with caplog.at_level(logging.ERROR, LOG):
        world.sync.sync()
    assert world.reloader.seen[-1] != before, "Prometheus was shown the new file"
    assert world.path.read_text() == before, "and the previous one is back"
    records = ours(caplog)
    assert len(records) == 1, [(r.levelname, r.getMessage()) for r in records]
    message = records[0].getMessage()
    assert "bad rule" in message and "previous ones again" in message
    world.reloader.failure = None
    world.sync.sync()
    assert world.reloader.seen[-1] == before, "the previous rules reloaded"
    world.sync.sync()
    assert world.sync.writes == 2, "the refused text is not written again"
    world.repository.put(sla("api"), None)
    world.sync.sync()
    assert world.groups()[:2] == ["monitoring-sla-api-0", "monitoring-sla-web-0"]


def test_a_refused_first_file_leaves_an_empty_rule_file(world: World) -> None:
    world.reloader.failure = ReloadFailed("answered 500: bad", rejected=True)
    world.sync.sync()
    assert world.path.read_text() == EMPTY_RULES
    assert yaml.safe_load(EMPTY_RULES) == {"groups": []}


def test_an_unreadable_store_leaves_the_file_alone(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.repository.put(sla("web"), None)
    world.sync.sync()
    before = world.path.read_text()
    world.repository.available = False
    with caplog.at_level(logging.ERROR, LOG):
        world.sync.sync()
        world.sync.sync()
    assert world.path.read_text() == before
    (record,) = ours(caplog)
    assert "cannot read the SLAs" in record.getMessage()


def test_an_unwritable_file_is_logged_and_nothing_is_reloaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reloader = FakeReloader()
    path = tmp_path / "missing-directory" / "rules.yml"
    sync = RuleFileSync(lambda: [sla("web")], path, reloader, 300)
    with caplog.at_level(logging.ERROR, LOG):
        sync.sync()
    assert not path.exists() and reloader.calls == 0
    (record,) = ours(caplog)
    assert "cannot write" in record.getMessage()


def test_without_a_reloader_the_file_is_written_only(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    sync = RuleFileSync(lambda: [sla("web")], path, None, 300)
    sync.sync()
    assert "monitoring-sla-web-0" in path.read_text()


def test_a_change_wakes_the_syncer_at_once(tmp_path: Path) -> None:
    repository = NotifyingSlaRepository(InMemorySlaRepository(FixedClock(NOW)))
    path = tmp_path / "rules.yml"
    syncer = RuleFileSyncer(
        RuleFileSync(repository.all, path, None, 300), poll_seconds=3600
    )
    repository.subscribe(syncer.wake)
    syncer.start()
    try:
        _wait_for(lambda: path.exists())
        repository.put(sla("web"), None)
        _wait_for(lambda: "monitoring-sla-web-0" in path.read_text())
        repository.delete("web", None)
        _wait_for(lambda: "monitoring-sla-web-0" not in path.read_text())
    finally:
        syncer.stop()


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.01)


def test_stale_after_follows_a_slow_refresh() -> None:
    assert stale_after_seconds(60) == 300
    assert stale_after_seconds(600) == 1800


def test_the_settings_go_together_and_name_what_is_wrong(tmp_path: Path) -> None:
    config = load_sla_manager_config({})
    assert config.rules_file is None and config.prometheus_reload_url is None
    with pytest.raises(ConfigError, match="needs MONITORING_RULES_FILE"):
        load_sla_manager_config(
            {"MONITORING_PROMETHEUS_RELOAD_URL": "http://127.0.0.1:9090/-/reload"}
        )
    with pytest.raises(ConfigError, match="the directory does not exist"):
        load_sla_manager_config(
            {"MONITORING_RULES_FILE": str(tmp_path / "no" / "rules.yml")}
        )
    with pytest.raises(ConfigError, match="MONITORING_PROMETHEUS_RELOAD_URL"):
        load_sla_manager_config(
            {
                "MONITORING_RULES_FILE": str(tmp_path / "rules.yml"),
                "MONITORING_PROMETHEUS_RELOAD_URL": "127.0.0.1:9090/-/reload",
            }
        )
    config = load_sla_manager_config(
        {
            "MONITORING_RULES_FILE": str(tmp_path / "rules.yml"),
            "MONITORING_PROMETHEUS_RELOAD_URL": "http://127.0.0.1:9090/-/reload",
        }
    )
    assert config.rules_file == tmp_path / "rules.yml"
    assert config.prometheus_reload_url == "http://127.0.0.1:9090/-/reload"


def test_without_a_rules_file_nothing_is_started() -> None:
    config = load_sla_manager_config({})
    repository = NotifyingSlaRepository(InMemorySlaRepository(FixedClock(NOW)))
    definitions = SlaDefinitions(repository, InMemoryMetricSource(), FixedClock(NOW))
    resource = rule_file_syncer(definitions, repository, config)
    assert next(resource) is None
    with pytest.raises(StopIteration):
        next(resource)


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b""

    def do_POST(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering() -> Iterator[tuple[str, type[_Answer]]]:
    handler = type("Handler", (_Answer,), {})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/-/reload", handler
    server.shutdown()
    server.server_close()


def test_the_reloader_tells_a_refusal_from_an_unreachable_prometheus(
    answering: tuple[str, type[_Answer]],
) -> None:
    url, handler = answering
    PrometheusReloader(url, 5).reload()
    handler.status, handler.body = 500, b"failed to reload config: bad rule\n"
    with pytest.raises(ReloadFailed, match="500: failed to reload") as refused:
        PrometheusReloader(url, 5).reload()
    assert refused.value.rejected
    handler.status, handler.body = 403, b"Lifecycle API is not enabled."
    with pytest.raises(ReloadFailed, match=r"--web\.enable-lifecycle") as off:
        PrometheusReloader(url, 5).reload()
    assert not off.value.rejected
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ReloadFailed, match="cannot reach") as gone:
        PrometheusReloader(f"http://127.0.0.1:{port}/-/reload", 5).reload()
    assert not gone.value.rejected
