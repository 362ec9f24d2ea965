"""``monitoring sla rules``: sources, refusals and the ``alerting`` section."""

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from adapters.grpc.server import SlaServer, start_server
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from apps.cli import main
from apps.sla import client_cli
from monitoring_core.series import SeriesKey
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from tests.support.sla_services import sla_services

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SLA = """\
name: web
objectives:
  - selector: 'node_load1{job="node"}'
    lo: 0
    hi: 4
    target: 0.9
    window: 30d
alerting:
  predicted_breach:
    probability: 0.7
    for: 2m
    horizon: 15m
"""


def _rules(path: Path) -> list[dict[str, object]]:
    rules: list[dict[str, object]] = yaml.safe_load(path.read_text())["groups"][0][
        "rules"
    ]
    return rules


def test_the_alerting_section_sets_the_predicted_breach_alert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sla.yaml").write_text(SLA)
    out = tmp_path / "rules.yml"
    assert main(["sla", "rules", "-f", str(tmp_path / "sla.yaml"), "-o", str(out)]) == 0
    (breach,) = [r for r in _rules(out) if r.get("alert") == "SLOPredictedBreach"]
    assert breach["for"] == "2m"
    assert str(breach["expr"]).endswith('horizon="15m"} > 0.7')
    # At T = 0.9 no burn rate exceeds 10: the page at 14.4 is left out, said so.
    error = capsys.readouterr().err
    assert "14.4x over 1h/5m is left out" in error
    pages = [r for r in _rules(out) if r.get("alert") == "SLOBurnRatePage"]
    assert len(pages) == 1 and "14.4" not in str(pages[0]["expr"])


def test_without_an_alerting_section_the_defaults_apply(tmp_path: Path) -> None:
    (tmp_path / "sla.yaml").write_text(SLA[: SLA.index("alerting:")])
    out = tmp_path / "rules.yml"
    assert main(["sla", "rules", "-f", str(tmp_path / "sla.yaml"), "-o", str(out)]) == 0
    (breach,) = [r for r in _rules(out) if r.get("alert") == "SLOPredictedBreach"]
    assert breach["for"] == "5m"
    assert str(breach["expr"]).endswith('horizon="10m"} > 0.5')


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("    for: 2m\n", "    fro: 2m\n"),
        ("    probability: 0.7\n", "    probability: 1.5\n"),
        ("    horizon: 15m\n", "    horizon: soon\n"),
        ("  predicted_breach:\n", "  predicted_breech:\n"),
    ],
)
def test_a_wrong_alerting_key_or_value_is_refused_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str, message: str
) -> None:
    (tmp_path / "sla.yaml").write_text(SLA.replace(change, message))
    out = tmp_path / "rules.yml"
    assert main(["sla", "rules", "-f", str(tmp_path / "sla.yaml"), "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "alerting." in error
    assert not out.exists(), "nothing written"


def test_a_name_missing_from_the_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sla.yaml").write_text(SLA)
    assert main(["sla", "rules", "-f", str(tmp_path / "sla.yaml"), "api"]) == 2
    assert "no SLA named 'api'" in capsys.readouterr().err


def test_without_a_file_it_needs_names_or_all(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sla", "rules"]) == 2
    assert "give NAME..., --all, or -f FILE" in capsys.readouterr().err


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlaServer]:
    clock = FixedClock(NOW)
    source = InMemoryMetricSource()
    for instance in ("a", "b"):
        key = SeriesKey.of("node_load1", {"job": "node", "instance": instance})
        source.add(key, [(NOW.timestamp() - 60, 1.0)])
    manager = sla_services(
        repository=InMemorySlaRepository(clock),
        source=source,
        samples=source,
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    for name in ("alpha", "beta"):
        objective = ObjectiveDraft(
            selector='node_load1{job="node"}', hi=4.0, target=0.99, window="7d"
        )
        manager.definitions.apply(SlaDraft(name=name, objectives=(objective,)))
    running = start_server(manager.servicer(clock), "127.0.0.1:0")
    monkeypatch.setenv("MONITORING_SLA_ADDRESS", f"127.0.0.1:{running.port}")
    yield running
    running.stop(0)


def _from_manager(tmp_path: Path, *chosen: str) -> list[str]:
    out = tmp_path / "rules.yml"
    args = argparse.Namespace(
        address=None,
        action="rules",
        names=list(chosen),
        all=not chosen,
        file=[],
        rules_file=str(out),
        format="prometheus",
        stale_after="5m",
        sla_url="http://console/ui/slas/{sla}",
        name="monitoring-slas",
    )
    assert client_cli.run(args) == 0
    groups = yaml.safe_load(out.read_text())["groups"]
    return [g["name"] for g in groups]


def test_rules_of_the_managers_slas_by_name_or_all(
    server: SlaServer, tmp_path: Path
) -> None:
    assert _from_manager(tmp_path) == [
        "monitoring-sla-alpha-0",
        "monitoring-sla-beta-0",
        "monitoring-sla-manager",
    ]
    assert _from_manager(tmp_path, "beta") == [
        "monitoring-sla-beta-0",
        "monitoring-sla-manager",
    ]


def test_an_sla_the_manager_does_not_have_fails_with_exit_1(
    server: SlaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sla", "rules", "gamma", "-o", str(tmp_path / "r.yml")]) == 1
    assert "gamma" in capsys.readouterr().err


def test_the_alerting_section_survives_apply_into_the_managers_rules(
    server: SlaServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sla.yaml").write_text(SLA)
    assert main(["sla", "apply", "-f", str(tmp_path / "sla.yaml")]) == 0
    out = tmp_path / "rules.yml"
    assert main(["sla", "rules", "web", "-o", str(out)]) == 0
    (breach,) = [r for r in _rules(out) if r.get("alert") == "SLOPredictedBreach"]
    assert breach["for"] == "2m"
    assert str(breach["expr"]).endswith('horizon="15m"} > 0.7')
    capsys.readouterr()
    assert main(["sla", "get", "web"]) == 0
    shown = capsys.readouterr().out
    assert "SLOPredictedBreach when P(bad slice within 15m) > 0.7 for 2m" in shown
    assert main(["sla", "export", "web"]) == 2, "openslo/v1 cannot hold it"
    assert "alerting.predicted_breach has no OpenSLO" in capsys.readouterr().err
    # Applying the file without the section goes back to the defaults.
    (tmp_path / "sla.yaml").write_text(SLA[: SLA.index("alerting:")])
    assert main(["sla", "apply", "-f", str(tmp_path / "sla.yaml")]) == 0
    assert main(["sla", "rules", "web", "-o", str(out)]) == 0
    (breach,) = [r for r in _rules(out) if r.get("alert") == "SLOPredictedBreach"]
    assert breach["for"] == "5m"
