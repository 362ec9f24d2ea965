"""``monitoring sla apply`` on files: all or nothing, and canonical selectors."""

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.grpc.server import SlaServer, start_server
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from apps.sla import client_cli
from monitoring_core.series import SeriesKey
from tests.support.sla_services import sla_services

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
GOOD = """
name: first
objectives:
  - selector: 'node_load1{job="node",instance="a"}'
    hi: 4
    target: 0.99
    window: 1h
"""
BAD = """
name: second
objectives:
  - selector: 'node_load1{job="node",instance="a"}'
    lo: 5
    hi: 4
    target: 0.99
    window: 1h
"""


@pytest.fixture
def repository() -> InMemorySlaRepository:
    return InMemorySlaRepository(FixedClock(NOW))


@pytest.fixture
def server(
    repository: InMemorySlaRepository, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlaServer]:
    clock = FixedClock(NOW)
    source = InMemoryMetricSource()
    key = SeriesKey.of("node_load1", {"job": "node", "instance": "a"})
    source.add(key, [(NOW.timestamp() - 60, 1.0)])
    manager = sla_services(
        repository=repository,
        source=source,
        samples=source,
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    running = start_server(manager.servicer(clock), "127.0.0.1:0")
    monkeypatch.setenv("MONITORING_SLA_ADDRESS", f"127.0.0.1:{running.port}")
    yield running
    running.stop(0)


def apply(path: Path, printed: list[str]) -> int:
    args = argparse.Namespace(
        address=None,
        output="table",
        action="apply",
        file=str(path),
        expected_version=None,
    )
    return client_cli.run(args, printed.append)


def test_one_bad_document_applies_none_of_the_file(
    server: SlaServer,
    repository: InMemorySlaRepository,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(GOOD + "---" + BAD)
    printed: list[str] = []
    assert apply(path, printed) == 1
    assert repository.all() == [] and printed == []
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "objectives[0].lo" in error
    path.write_text(GOOD)
    assert apply(path, printed) == 0
    assert printed == ["sla first created (version 1)"]


def test_the_same_selector_written_another_way_changes_nothing(
    server: SlaServer, repository: InMemorySlaRepository, tmp_path: Path
) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(GOOD)
    printed: list[str] = []
    assert apply(path, printed) == 0
    path.write_text(GOOD.replace('job="node",instance="a"', 'instance="a",job="node"'))
    assert apply(path, printed) == 0
    assert printed[-1] == "sla first unchanged (version 1)"
    (stored,) = repository.all()
    assert stored.objectives[0].selector.to_promql() == (
        'node_load1{instance="a",job="node"}'
    )


def test_score_reports_every_objective_even_with_nothing_due(
    server: SlaServer, tmp_path: Path
) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(GOOD)
    printed: list[str] = []
    assert apply(path, printed) == 0
    args = argparse.Namespace(
        address=None, output="json", action="score", name="first", lookback="1h"
    )
    assert client_cli.run(args, printed.append) == 0
    report = json.loads(printed[-1])
    assert report["lookback"] == "1h"
    (objective,) = report["objectives"]
    assert objective["objective"]["selector"] == 'node_load1{instance="a",job="node"}'
    # JSON leaves out zero counts and unset rates: nothing was predicted yet.
    assert objective["score"] == {}


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        pytest.param(
            GOOD + "---\n" + GOOD.replace("    window: 1h", "    windwo: 1h"),
            2,
            'documents[1] (name "first"): objectives[0].windwo: unknown key; '
            'did you mean "window"?',
            id="misspelt-key",
        ),
        pytest.param(
            GOOD + "---\n" + GOOD,
            2,
            'documents[0] and documents[1] both define the SLA "first"',
            id="same-name",
        ),
        pytest.param(
            GOOD + "---\n" + BAD,
            1,
            "objectives[0].lo: lo (5) is above hi (4); in {path}, documents[1] "
            '(name "second")',
            id="refused-by-the-server",
        ),
    ],
)
def test_a_hostile_file_names_its_document_and_stores_nothing(
    server: SlaServer,
    repository: InMemorySlaRepository,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    code: int,
    says: str,
) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(text)
    printed: list[str] = []
    assert apply(path, printed) == code
    assert repository.all() == [] and printed == []
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and says.format(path=path) in error
