"""Active alerts grouped by SLA and objective, and their worst state."""

from datetime import UTC, datetime, timedelta

import pytest

from monitoring_core.alerts import (
    Alert,
    AlertState,
    AlertSummary,
    by_sla,
    summarize,
    unattributed,
)

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def alert(
    name: str,
    state: AlertState = AlertState.FIRING,
    minutes_ago: int = 0,
    **labels: str,
) -> Alert:
    return Alert(
        name=name,
        state=state,
        labels={"alertname": name, **labels},
        active_at=T0 - timedelta(minutes=minutes_ago),
        value=1.0,
    )


def test_the_worst_state_wins_firing_over_pending_over_none() -> None:
    pending = alert("P", AlertState.PENDING)
    firing = alert("F")
    assert summarize([]) is AlertSummary.NONE
    assert summarize([pending]) is AlertSummary.PENDING
    assert summarize([pending, firing]) is AlertSummary.FIRING


def test_alerts_group_by_the_sla_label_and_split_by_objective() -> None:
    alerts = [
        alert("SLOBurnRatePage", sla="pay", objective="0", severity="page"),
        alert("SLOPredictedBreach", AlertState.PENDING, sla="pay", objective="1"),
        alert("SLOBurnRateTicket", sla="web", objective="0"),
        alert("Custom", sla="pay"),
        alert("SLAManagerStale", severity="ticket"),
    ]
    grouped = by_sla(alerts)
    assert set(grouped) == {"pay", "web"}
    pay = grouped["pay"]
    assert pay.summary is AlertSummary.FIRING
    assert [a.name for a in pay.of_objective(0)] == ["SLOBurnRatePage"]
    assert [a.name for a in pay.of_objective(1)] == ["SLOPredictedBreach"]
    assert [a.name for a in pay.whole_sla] == ["Custom"]
    assert [a.name for a in unattributed(alerts)] == ["SLAManagerStale"]


def test_an_slas_alerts_are_ordered_firing_first_then_oldest_first() -> None:
    alerts = [
        alert("A", AlertState.PENDING, minutes_ago=30, sla="s"),
        alert("B", minutes_ago=1, sla="s"),
        alert("C", minutes_ago=10, sla="s"),
    ]
    assert [a.name for a in by_sla(alerts)["s"].alerts] == ["C", "B", "A"]


@pytest.mark.parametrize("raw", ["x", "-1", "1.5", "", "12345678"])
def test_an_objective_label_that_is_no_index_maps_to_the_whole_sla(raw: str) -> None:
    found = alert("A", sla="s", objective=raw)
    assert found.objective is None
    assert by_sla([found])["s"].whole_sla == (found,)


def test_an_empty_sla_label_names_no_sla() -> None:
    assert by_sla([alert("A", sla="")]) == {}


def test_active_at_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Alert(
            name="A",
            state=AlertState.FIRING,
            labels={},
            active_at=datetime(2026, 1, 1),
            value=1.0,
        )
