"""The contract every AlertStates honours: the active alerts of known rules.

The rules are declared here (``RULES``); each subclass makes them hold in its
adapter (a rule file evaluated by the real Prometheus, or ``hold`` on the fake)
with one extra label ``contract=<tag>`` so that alerts of other rules on a
shared Prometheus are left out. Expected states, labels and values come from
these declarations, never from an adapter's answer.
"""

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from monitoring_core.alerts import (
    Alert,
    AlertState,
    AlertSummary,
    by_sla,
    unattributed,
)
from monitoring_core.errors import SourceUnavailable
from monitoring_core.ports import AlertStates

CONTRACT_LABEL = "contract"


@attrs.frozen(kw_only=True)
class ContractRule:
    """An alerting rule whose expression is a constant (or never true)."""

    name: str
    labels: Mapping[str, str]
    value: float
    for_seconds: int
    holds: bool = True


RULES = (
    ContractRule(
        name="ContractBurnFast",
        labels={"sla": "contract-a", "objective": "0", "severity": "page"},
        value=42.5,
        for_seconds=0,
    ),
    ContractRule(
        name="ContractPredicted",
        labels={"sla": "contract-a", "objective": "1", "severity": "ticket"},
        value=0.75,
        for_seconds=3600,
    ),
    ContractRule(
        name="ContractNever",
        labels={"sla": "contract-b", "objective": "0", "severity": "page"},
        value=1.0,
        for_seconds=0,
        holds=False,
    ),
    ContractRule(
        name="ContractManagerStale",
        labels={"severity": "ticket"},
        value=1.0,
        for_seconds=0,
    ),
)
FIRING, PENDING, NEVER, NO_SLA = RULES


@attrs.frozen
class Held:
    """An adapter whose ``RULES`` hold since about ``started``, tagged ``tag``."""

    states: AlertStates
    tag: str
    started: datetime


class AlertStatesContract:
    """Subclasses provide ``held`` (the rules made to hold) and ``unreachable``."""

    @pytest.fixture
    def held(self) -> Held:
        raise NotImplementedError

    @pytest.fixture
    def unreachable(self) -> AlertStates:
        raise NotImplementedError

    def ours(self, held: Held) -> dict[str, Alert]:
        found = [
            a for a in held.states.active() if a.labels.get(CONTRACT_LABEL) == held.tag
        ]
        by_name = {a.name: a for a in found}
        assert len(by_name) == len(found), "one alert per rule"
        return by_name

    def test_a_rule_without_for_fires_with_its_labels_and_value(
        self, held: Held
    ) -> None:
        alert = self.ours(held)[FIRING.name]
        assert alert.state is AlertState.FIRING
        assert alert.labels == {
            **FIRING.labels,
            CONTRACT_LABEL: held.tag,
            "alertname": FIRING.name,
        }
        assert alert.value == FIRING.value
        assert alert.severity == "page"

    def test_a_rule_within_its_for_is_pending(self, held: Held) -> None:
        alert = self.ours(held)[PENDING.name]
        assert alert.state is AlertState.PENDING
        assert alert.value == PENDING.value

    def test_a_rule_whose_condition_does_not_hold_has_no_alert(
        self, held: Held
    ) -> None:
        found = self.ours(held)
        assert NEVER.name not in found
        assert set(found) == {r.name for r in RULES if r.holds}

    def test_active_at_is_when_the_condition_began_in_utc(self, held: Held) -> None:
        for alert in self.ours(held).values():
            since = alert.active_at
            assert since is not None and since.utcoffset() == timedelta(0)
            # Within the rule evaluations since the rules were put in place.
            assert held.started - timedelta(seconds=5) <= since
            assert since <= datetime.now(UTC) + timedelta(seconds=1)

    def test_alerts_map_to_their_sla_and_objective_by_labels(self, held: Held) -> None:
        alerts = list(self.ours(held).values())
        grouped = by_sla(alerts)
        assert set(grouped) == {"contract-a"}
        mine = grouped["contract-a"]
        assert mine.summary is AlertSummary.FIRING
        assert [a.name for a in mine.of_objective(0)] == [FIRING.name]
        assert [a.name for a in mine.of_objective(1)] == [PENDING.name]
        assert [a.name for a in unattributed(alerts)] == [NO_SLA.name]

    def test_values_are_finite_numbers(self, held: Held) -> None:
        for alert in self.ours(held).values():
            assert math.isfinite(alert.value)

    def test_an_unreachable_evaluator_raises_source_unavailable(
        self, unreachable: AlertStates
    ) -> None:
        with pytest.raises(SourceUnavailable):
            unreachable.active()
