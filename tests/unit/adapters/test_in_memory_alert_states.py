"""The in-memory alert states pass the AlertStates contract, and follow ``for``."""

from datetime import UTC, datetime, timedelta

import pytest

from adapters.in_memory.alert_states import InMemoryAlertStates
from adapters.in_memory.clock import FixedClock
from monitoring_core.alerts import AlertState
from monitoring_core.ports import AlertStates
from tests.contracts.alert_states_contract import (
    CONTRACT_LABEL,
    RULES,
    AlertStatesContract,
    Held,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class TestInMemoryAlertStates(AlertStatesContract):
    @pytest.fixture
    def held(self) -> Held:
        fake = InMemoryAlertStates(FixedClock(NOW))
        since = NOW - timedelta(seconds=2)
        for rule in RULES:
            if rule.holds:
                fake.hold(
                    rule.name,
                    {**rule.labels, CONTRACT_LABEL: "t"},
                    since=since,
                    value=rule.value,
                    for_seconds=rule.for_seconds,
                )
        return Held(fake, "t", since)

    @pytest.fixture
    def unreachable(self) -> AlertStates:
        fake = InMemoryAlertStates(FixedClock(NOW))
        fake.available = False
        return fake


def test_a_held_alert_turns_from_pending_to_firing_once_its_for_has_passed() -> None:
    clock = FixedClock(NOW)
    fake = InMemoryAlertStates(clock)
    fake.hold("Slow", {"sla": "s"}, since=NOW, value=2.0, for_seconds=300)
    assert [a.state for a in fake.active()] == [AlertState.PENDING]
    clock.advance(299)
    assert [a.state for a in fake.active()] == [AlertState.PENDING]
    clock.advance(1)
    assert [a.state for a in fake.active()] == [AlertState.FIRING]


def test_a_released_alert_is_gone_and_a_future_one_not_yet_there() -> None:
    clock = FixedClock(NOW)
    fake = InMemoryAlertStates(clock)
    fake.hold("Now", {"sla": "s"}, since=NOW, value=1.0)
    fake.hold("Later", {"sla": "s"}, since=NOW + timedelta(minutes=1), value=1.0)
    assert [a.name for a in fake.active()] == ["Now"]
    fake.release("Now", {"sla": "s"})
    assert fake.active() == []
    clock.advance(60)
    assert [a.name for a in fake.active()] == ["Later"]
