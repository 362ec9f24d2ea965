"""A cycle that never finished is recorded as aborted (ADR 0053).

The kill is real: a child process starts a cycle (its marker written the way
the runner writes it) and is killed with SIGKILL in the middle; the next
runner finds the marker and publishes an ``aborted`` record for it.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.result_publisher import InMemoryResultPublisher
from adapters.system.clock import SystemClock
from apps.etl.cycle_marker import CycleMarkers, markers_beside
from apps.etl.runner import EtlRunner
from monitoring_core.errors import PublishError
from monitoring_core.runs import EtlRun
from monitoring_core.selectors import parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.services.etl_cycle import EtlCycle
from monitoring_core.services.settings import EtlSettings
from tests.support.etl_cycles import in_memory_cycle

CHILD = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from apps.etl.cycle_marker import CycleMarkers
marker = CycleMarkers(Path(sys.argv[1])).start("analysis", datetime.now(UTC))
print(marker.run_id, flush=True)
time.sleep(60)  # a long cycle, killed in the middle
"""


class Buffering(InMemoryResultPublisher):
    """A bus whose broker is away: everything stays buffered."""

    def flush(self, timeout_seconds: float) -> int:
        return len(self.results)


def _cycle(bus: InMemoryResultPublisher) -> EtlCycle:
    source = InMemoryMetricSource()
    now = time.time()
    source.add(
        SeriesKey.of("up", {"job": "x"}), [(now - i * 15, 1.0) for i in range(50)]
    )
    settings = EtlSettings(selectors=(parse_selector("up"),), forecast_selectors=())
    return in_memory_cycle(source, SystemClock(), bus, settings)


def _runner(markers: CycleMarkers, bus: InMemoryResultPublisher) -> EtlRunner:
    return EtlRunner(
        _cycle(bus),
        cycle_seconds=1,
        metadata_seconds=3600,
        stop=threading.Event(),
        markers=markers,
        publisher=bus,
        clock=SystemClock(),
    )


def _runs(bus: InMemoryResultPublisher) -> list[EtlRun]:
    return [r for r in bus.results if isinstance(r, EtlRun)]


def test_a_cycle_killed_with_sigkill_is_recorded_as_aborted_at_the_next_start(
    tmp_path: Path,
) -> None:
    markers = markers_beside(tmp_path / "etl.sqlite")
    before = datetime.now(UTC)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(markers.directory)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    run_id = child.stdout.readline().strip()
    child.send_signal(signal.SIGKILL)
    assert child.wait(10) == -signal.SIGKILL
    bus = InMemoryResultPublisher()
    runner = _runner(markers, bus)
    assert runner.record_aborted() == 1
    [aborted] = _runs(bus)
    assert aborted.run_id == run_id and aborted.status == "aborted"
    assert not aborted.ok and aborted.results_published == 0
    assert before <= aborted.started_at <= aborted.finished_at
    assert f"pid {child.pid}" in (aborted.aborted or "")
    assert aborted.errors == [f"aborted: {aborted.aborted}"]
    assert markers.leftovers() == [], "recorded once"
    assert runner.record_aborted() == 0


def test_finished_cycles_leave_no_marker_and_are_not_reported(tmp_path: Path) -> None:
    markers = CycleMarkers(tmp_path / "cycles")
    bus = InMemoryResultPublisher()
    run = _runner(markers, bus).run_once()
    assert run.status == "ok" and run.results_delivered == run.results_published
    assert run.results_buffered == 0
    assert list(markers.directory.iterdir()) == []
    assert _runner(markers, bus).record_aborted() == 0
    assert [r.status for r in _runs(bus)] == ["ok"]


def test_a_crashed_cycle_is_recorded_as_aborted_at_once(tmp_path: Path) -> None:
    markers = CycleMarkers(tmp_path / "cycles")
    bus = InMemoryResultPublisher()
    runner = _runner(markers, bus)

    def crash() -> EtlRun:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        runner._marked("analysis", crash)
    [aborted] = _runs(bus)
    assert aborted.aborted == "the analysis cycle crashed: RuntimeError: a bug"
    assert markers.leftovers() == []


def test_undelivered_records_keep_their_markers_for_the_next_start(
    tmp_path: Path,
) -> None:
    markers = CycleMarkers(tmp_path / "cycles")
    started = markers.start("metadata", datetime.now(UTC))
    away = Buffering()
    assert _runner(markers, away).record_aborted() == 1
    assert [m.run_id for m in markers.leftovers()] == [started.run_id]
    bus = InMemoryResultPublisher()
    assert _runner(markers, bus).record_aborted() == 1
    assert [r.run_id for r in _runs(away) + _runs(bus)] == [started.run_id] * 2
    assert markers.leftovers() == []


def test_a_refused_record_keeps_its_marker(tmp_path: Path) -> None:
    markers = CycleMarkers(tmp_path / "cycles")
    markers.start("analysis", datetime.now(UTC))

    class Full(InMemoryResultPublisher):
        def publish(self, results: Sequence[object]) -> None:  # type: ignore[override]
            raise PublishError("buffer full")

    assert _runner(markers, Full()).record_aborted() == 1
    assert len(markers.leftovers()) == 1


def test_an_unreadable_marker_is_still_reported(tmp_path: Path) -> None:
    markers = CycleMarkers(tmp_path / "cycles")
    (markers.directory / "deadbeef.cycle.json").write_text("{not json")
    (markers.directory / "half.tmp").write_text("{")
    [found] = markers.leftovers()
    assert found.run_id == "deadbeef" and found.loop == "unknown"
    assert not (markers.directory / "half.tmp").exists()


def test_the_cycle_reports_delivered_and_buffered_separately(tmp_path: Path) -> None:
    away = Buffering()
    run = _cycle(away).run()
    assert run.results_published > 0
    assert run.results_buffered == run.results_published
    assert run.results_delivered == 0
    assert run.status == "ok"


def test_markers_are_private_to_their_owner(tmp_path: Path) -> None:
    markers = markers_beside(tmp_path / "etl.sqlite")
    assert markers.directory == tmp_path / "etl.cycles"
    assert os.stat(markers.directory).st_mode & 0o077 == 0
