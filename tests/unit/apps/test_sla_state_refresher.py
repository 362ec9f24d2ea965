"""The SLA manager's refresh thread: at once, on its interval, alive after a bug."""

import logging
import threading
import time
from typing import cast

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from apps.sla.refresher import StateRefresher, state_refresher
from monitoring_core.services.sla_state import SlaStateService, StateSnapshot
from tests.support.sla_state_world import StateWorld


class Flaky:
    """Counts refreshes; the first ``crashes`` raise a bug's exception."""

    def __init__(self, crashes: int) -> None:
        self.calls = 0
        self.crashes = crashes
        self.done = threading.Event()
        self.snapshot = StateSnapshot()

    def refresh(self) -> bool:
        self.calls += 1
        if self.calls >= self.crashes + 2:
            self.done.set()
        if self.calls <= self.crashes:
            raise KeyError("a bug")
        return True


def test_a_crashing_refresh_logs_one_traceback_and_the_thread_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky(crashes=3)
    refresher = StateRefresher(cast(SlaStateService, flaky), interval_seconds=0.01)
    with caplog.at_level(logging.ERROR, "apps.sla.refresher"):
        refresher.start()
        assert flaky.done.wait(5)
        refresher.stop()
    assert flaky.calls >= 5
    assert len(caplog.records) == 1
    assert caplog.records[0].exc_info is not None


def test_the_resource_refreshes_at_once_and_unregisters_on_shutdown() -> None:
    world = StateWorld()
    registry = CollectorRegistry()
    resource = state_refresher(world.state, registry, 3600)
    next(resource)
    deadline = time.monotonic() + 5
    while world.state.snapshot.refreshed_at is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert b'monitoring_sla_sli_ratio{objective="0",sla="temps"' in (
        generate_latest(registry)
    )
    with pytest.raises(StopIteration):
        next(resource)
    assert b"monitoring_sla_" not in generate_latest(registry)
