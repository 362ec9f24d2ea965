"""Alerts Prometheus holds active, and which SLA and objective each one is about.

The rules rendered for an SLA (``adapters.prometheus.rules``, docs/alerting.md)
put ``sla="<name>"`` and ``objective="<index>"`` on every alert they define;
those two labels are all the mapping reads (ADR 0057), so an alert of a user's
own rule that carries them is attributed the same way.
"""

import enum
import math
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

SLA_LABEL = "sla"
"""The label naming the SLA on every alert rendered for it."""
OBJECTIVE_LABEL = "objective"
"""The label holding the objective's index (``"0"``, ``"1"``, ...)."""
NAME_LABEL = "alertname"
SEVERITY_LABEL = "severity"


class AlertState(enum.Enum):
    """Where an active alert is: its condition holds, for less or more than ``for``."""

    PENDING = "pending"
    FIRING = "firing"


def _labels(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(sorted(value.items()))


@attrs.frozen(kw_only=True)
class Alert:
    """One alert that is pending or firing.

    Attributes:
        name: the rule's alert name (its ``alertname`` label).
        state: pending or firing.
        labels: every label of the alert, ``alertname`` included.
        active_at: when its condition first held (timezone-aware), if known.
        value: the value of the rule's expression at the last evaluation.
        annotations: the rule's annotations (``summary``, ...).
    """

    name: str
    state: AlertState
    labels: Mapping[str, str] = attrs.field(converter=_labels)
    active_at: datetime | None = attrs.field()
    value: float
    annotations: Mapping[str, str] = attrs.field(factory=dict, converter=_labels)

    @active_at.validator
    def _aware(self, _attribute: object, value: datetime | None) -> None:
        if value is not None and value.tzinfo is None:
            raise ValueError("active_at must be timezone-aware")

    @property
    def sla(self) -> str | None:
        """The SLA this alert is about, or None."""
        return self.labels.get(SLA_LABEL) or None

    @property
    def objective(self) -> int | None:
        """The objective's index, or None when absent or not a small integer."""
        raw = self.labels.get(OBJECTIVE_LABEL, "")
        return int(raw) if raw.isdigit() and len(raw) <= 6 else None

    @property
    def severity(self) -> str | None:
        """The ``severity`` label, if any."""
        return self.labels.get(SEVERITY_LABEL)

    @property
    def finite_value(self) -> float | None:
        """The value, or None when it is NaN or infinite."""
        return self.value if math.isfinite(self.value) else None


class AlertSummary(enum.Enum):
    """The worst state among a set of alerts."""

    FIRING = "firing"
    PENDING = "pending"
    NONE = "none"


def summarize(alerts: Iterable[Alert]) -> AlertSummary:
    """Firing if any fires, else pending if any is pending, else none."""
    states = {a.state for a in alerts}
    if AlertState.FIRING in states:
        return AlertSummary.FIRING
    if AlertState.PENDING in states:
        return AlertSummary.PENDING
    return AlertSummary.NONE


@attrs.frozen
class SlaAlerts:
    """The active alerts of one SLA, and of each of its objectives."""

    sla: str
    alerts: tuple[Alert, ...]

    @property
    def summary(self) -> AlertSummary:
        """The worst state among the SLA's alerts."""
        return summarize(self.alerts)

    def of_objective(self, index: int) -> tuple[Alert, ...]:
        """The alerts whose ``objective`` label is ``index``."""
        return tuple(a for a in self.alerts if a.objective == index)

    @property
    def whole_sla(self) -> tuple[Alert, ...]:
        """The alerts naming the SLA but no valid objective."""
        return tuple(a for a in self.alerts if a.objective is None)


def _order(alert: Alert) -> tuple[int, float, str, str]:
    firing_first = 0 if alert.state is AlertState.FIRING else 1
    since = alert.active_at.timestamp() if alert.active_at else math.inf
    return (firing_first, since, alert.name, repr(sorted(alert.labels.items())))


def by_sla(alerts: Iterable[Alert]) -> dict[str, SlaAlerts]:
    """Group alerts by their ``sla`` label; alerts without one are left out.

    Each SLA's alerts are ordered firing first, then oldest first, so the same
    answer always shows in the same order.
    """
    grouped: dict[str, list[Alert]] = {}
    for alert in alerts:
        if alert.sla is not None:
            grouped.setdefault(alert.sla, []).append(alert)
    return {
        name: SlaAlerts(name, tuple(sorted(found, key=_order)))
        for name, found in grouped.items()
    }


def unattributed(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    """The alerts naming no SLA (``SLAManagerStale``, other rules' alerts)."""
    return tuple(sorted((a for a in alerts if a.sla is None), key=_order))
