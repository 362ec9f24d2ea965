"""The labels the rendered rules put on alerts map each alert to its objective.

The rules are rendered by the same code as ``monitoring sla rules`` and the
live rule file; an alert Prometheus raises from a rule carries the rule's
labels plus ``alertname``, which is what is built here from each rule.
"""

from datetime import UTC, datetime

from adapters.prometheus.rules import sla_groups, stale_group
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.alerts import Alert, AlertState, by_sla, unattributed
from monitoring_core.sla import ObjectiveDraft, SlaDraft, validate_sla

SLA = validate_sla(
    SlaDraft(
        name="payments",
        objectives=(
            ObjectiveDraft(selector="queue_depth", hi=100.0, target=0.99, window="30d"),
            ObjectiveDraft(
                selector="latency", lo=0.0, hi=2.0, target=0.95, window="7d"
            ),
        ),
    )
)


def alerts_of(groups: list[dict[str, object]]) -> list[Alert]:
    found = []
    for group in groups:
        for rule in group["rules"]:  # type: ignore[attr-defined]
            if "alert" in rule:
                found.append(
                    Alert(
                        name=rule["alert"],
                        state=AlertState.FIRING,
                        labels={"alertname": rule["alert"], **rule["labels"]},
                        active_at=datetime.now(UTC),
                        value=1.0,
                    )
                )
    return found


def test_every_rendered_alert_maps_to_its_sla_and_objective() -> None:
    groups = sla_groups(SLA, AlertingPolicy(), "http://console/ui/sla/payments")
    alerts = alerts_of(groups)  # type: ignore[arg-type]
    grouped = by_sla(alerts)
    assert list(grouped) == ["payments"]
    for index in (0, 1):
        names = {a.name for a in grouped["payments"].of_objective(index)}
        assert "SLOPredictedBreach" in names and "SLOBurnRatePage" in names
    assert grouped["payments"].whole_sla == ()
    assert len(grouped["payments"].alerts) == len(alerts)


def test_the_stale_manager_alert_belongs_to_no_sla() -> None:
    alerts = alerts_of([stale_group(300)])  # type: ignore[list-item]
    assert by_sla(alerts) == {}
    assert [a.name for a in unattributed(alerts)] == ["SLAManagerStale"]
