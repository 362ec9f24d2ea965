"""``monitoring sla export`` and ``apply -f`` of OpenSLO, through the real CLI
against an in-process SLA manager: the round trip, and refusals that apply
nothing (exit 2, one line naming the field)."""

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
from monitoring_core.series import SeriesKey
from tests.support.openslo import openslo_v1_validator
from tests.support.servers import ROOT
from tests.support.sla_services import sla_services

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EXAMPLE = ROOT / "examples" / "sla.yaml"
SERIES = ("node_load1", "node_memory_MemAvailable_bytes", "node_procs_blocked")


@pytest.fixture
def repository() -> InMemorySlaRepository:
    return InMemorySlaRepository(FixedClock(NOW))


@pytest.fixture
def server(
    repository: InMemorySlaRepository, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SlaServer]:
    clock = FixedClock(NOW)
    source = InMemoryMetricSource()
    for name in SERIES:
        source.add(SeriesKey.of(name, {"job": "node"}), [(NOW.timestamp() - 60, 1.0)])
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


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sla", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_then_apply_of_the_example_gives_the_same_sla(
    server: SlaServer,
    repository: InMemorySlaRepository,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(capsys, "apply", "-f", str(EXAMPLE))[0] == 0
    (before,) = repository.all()
    exported = tmp_path / "node-health.openslo.yaml"
    code, out, _ = _run(capsys, "export", "node-health", "-o", str(exported))
    assert code == 0 and str(exported) in out
    code, printed, _ = _run(capsys, "export", "node-health", "--format", "openslo")
    assert code == 0 and printed == exported.read_text()
    documents = list(yaml.safe_load_all(exported.read_text()))
    assert all(not list(openslo_v1_validator().iter_errors(d)) for d in documents)
    assert _run(capsys, "delete", "node-health")[0] == 0
    assert repository.all() == []
    code, out, err = _run(capsys, "apply", "-f", str(exported))
    assert (code, err) == (0, "")
    (after,) = repository.all()
    assert after.same_definition(before)
    assert after.objectives == before.objectives


def test_a_refused_openslo_document_applies_nothing(
    server: SlaServer,
    repository: InMemorySlaRepository,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(capsys, "apply", "-f", str(EXAMPLE))[0] == 0
    exported = tmp_path / "exported.yaml"
    assert _run(capsys, "export", "node-health", "-o", str(exported))[0] == 0
    assert _run(capsys, "delete", "node-health")[0] == 0
    documents = list(yaml.safe_load_all(exported.read_text()))
    documents[-1]["spec"]["budgetingMethod"] = "Occurrences"
    exported.write_text(yaml.safe_dump_all(documents))
    code, out, err = _run(capsys, "apply", "-f", str(exported))
    assert (code, out, repository.all()) == (2, "", [])
    assert err.count("\n") == 1 and err.startswith(f"monitoring sla: {exported}: ")
    assert 'documents[6] (SLO "node-health-2"): spec.budgetingMethod' in err


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ("openslo", "objectives[0].window 1m30s: OpenSLO time windows"),
        ("openslo-v1alpha", "objectives[0].window 1m30s: Sloth reads"),
    ],
)
def test_what_openslo_cannot_hold_is_refused_and_no_file_written(
    server: SlaServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    form: str,
    says: str,
) -> None:
    short = tmp_path / "short.yaml"
    short.write_text(
        "name: short\nobjectives:\n  - selector: 'node_load1{job=\"node\"}'\n"
        "    hi: 4\n    target: 0.9\n    window: 90s\n    slice: 30s\n"
    )
    assert _run(capsys, "apply", "-f", str(short))[0] == 0
    target = tmp_path / "out.yaml"
    code, out, err = _run(
        capsys, "export", "short", "--format", form, "-o", str(target)
    )
    assert (code, out) == (2, "") and not target.exists()
    assert err.startswith(f"monitoring sla: sla short as {form}: {says}")
    assert err.count("\n") == 1
