"""An outage is logged once when it starts, summarised, and once when it ends."""

import logging
import threading

import pytest

from monitoring_core.dependency_state import DependencyState

LOGGER = "tests.dependency"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _state(clock: FakeClock) -> DependencyState:
    return DependencyState("kafka", logging.getLogger(LOGGER), 60.0, clock)


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records]


def test_a_thousand_failures_make_one_line_and_the_return_another(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    state = _state(clock)
    with caplog.at_level(logging.INFO, LOGGER):
        state.succeeded()  # up and up again: nothing to say
        for n in range(1000):
            clock.now += 1 / 32  # 1000 failures in 31 s, under the summary period
            state.failed(f"Connection refused #{n}")
        clock.now += 0.75
        state.succeeded()
        state.succeeded()
    assert _lines(caplog) == [
        ("WARNING", "kafka is unreachable: Connection refused #0"),
        ("INFO", "kafka is reachable again after 32.0s down (1000 failed attempts)"),
    ]
    assert state.changes == 2 and not state.is_down and state.down_seconds == 0


def test_a_long_outage_is_summarised_once_a_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    state = _state(clock)
    with caplog.at_level(logging.INFO, LOGGER):
        for n in range(150):  # 150 s, one failure a second
            state.failed(f"refused {n}")
            clock.now += 1.0
            state.tick()
    lines = _lines(caplog)
    assert [level for level, _ in lines] == ["WARNING"] * 3
    assert lines[1][1] == (
        "kafka still unreachable after 60s: 60 failed attempts in the last 60s, "
        "last: refused 59"
    )
    assert lines[2][1].startswith("kafka still unreachable after 120s: 60 failed")
    assert state.is_down and state.down_seconds == 150.0


def test_ticks_while_up_say_nothing(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    state = _state(clock)
    with caplog.at_level(logging.INFO, LOGGER):
        for _ in range(10):
            clock.now += 100
            state.tick()
    assert caplog.records == []


def test_failures_from_many_threads_still_make_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = DependencyState("the database", logging.getLogger(LOGGER))

    def fail() -> None:
        for _ in range(500):
            state.failed("refused")

    threads = [threading.Thread(target=fail) for _ in range(4)]
    with caplog.at_level(logging.INFO, LOGGER):
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        state.succeeded()
    lines = _lines(caplog)
    assert len(lines) == 2
    assert lines[1][1].endswith("(2000 failed attempts)")
