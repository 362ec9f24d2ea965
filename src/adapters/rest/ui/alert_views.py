"""What the console shows of alerts: Prometheus' active alerts, by SLA (ADR 0057).

One read of ``AlertStates`` per page; an unset or unreachable Prometheus is
shown as such in the page (never a failed page): alert state is an addition
to the SLO figures, which come from the SLA manager.
"""

import logging
from collections.abc import Sequence
from typing import Any

import attrs

from adapters.formats.json_values import number, rfc3339
from monitoring_core.alerts import (
    NAME_LABEL,
    OBJECTIVE_LABEL,
    SEVERITY_LABEL,
    SLA_LABEL,
    Alert,
    SlaAlerts,
    by_sla,
    unattributed,
)
from monitoring_core.errors import SourceUnavailable
from monitoring_core.ports import AlertStates

log = logging.getLogger(__name__)
NOT_CONFIGURED = "unknown (no Prometheus configured)"
UNAVAILABLE = "unavailable"
FILTERS = ("active", "firing", "pending", "none")
"""Values of the overview's ``alerts`` filter (``active``: firing or pending)."""
_RANK = {"firing": 0, "pending": 1, "none": 2}
_SHOWN_ELSEWHERE = {NAME_LABEL, SLA_LABEL, OBJECTIVE_LABEL, SEVERITY_LABEL}


@attrs.frozen
class ConsoleAlerts:
    """The Prometheus whose alerts the console shows.

    Attributes:
        states: its active alerts.
        page_url: its own alerts page (``<prometheus>/alerts``), linked.
    """

    states: AlertStates
    page_url: str


@attrs.frozen(kw_only=True)
class AlertsRead:
    """One read of the alerts: by SLA, or why there is none."""

    known: bool
    by_sla: dict[str, SlaAlerts] = attrs.field(factory=dict)
    others: tuple[Alert, ...] = ()
    problem: str | None = None
    page_url: str | None = None


def read(source: ConsoleAlerts | None) -> AlertsRead:
    """The active alerts now; unknown with the reason when they cannot be had."""
    if source is None:
        return AlertsRead(known=False, problem=NOT_CONFIGURED)
    try:
        alerts = source.states.active()
    except SourceUnavailable as exc:
        log.warning("console alerts: %s", exc)
        return AlertsRead(
            known=False,
            problem=f"{UNAVAILABLE}: {exc}",
            page_url=source.page_url,
        )
    return AlertsRead(
        known=True,
        by_sla=by_sla(alerts),
        others=unattributed(alerts),
        page_url=source.page_url,
    )


def cell(found: AlertsRead, sla: str) -> dict[str, Any]:
    """An SLA's alert state on the overview: firing, pending, none or unknown."""
    if not found.known:
        why = NOT_CONFIGURED if found.problem == NOT_CONFIGURED else UNAVAILABLE
        note = why.removeprefix("unknown ") if why == NOT_CONFIGURED else f"({why})"
        return {"state": "unknown", "text": "unknown", "note": note, "names": []}
    mine = found.by_sla.get(sla)
    state = mine.summary.value if mine else "none"
    names = sorted({a.name for a in mine.alerts}) if mine else []
    # The names are on the SLA's page; the column stays narrow.
    note = f"({len(mine.alerts)})" if mine else ""
    return {"state": state, "text": state, "note": note, "names": names}


def overview_rows(
    rows: list[dict[str, Any]], found: AlertsRead, wanted: str, sort: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Add each row's ``alerts`` cell, keep those ``wanted``, sort by alerts.

    Returns:
        The rows, and a notice when the filter is unknown or cannot apply.
    """
    for row in rows:
        row["alerts"] = cell(found, row["name"])
    notice = None
    if wanted and wanted not in FILTERS:
        notice = f"unknown alerts filter {wanted!r}: one of {', '.join(FILTERS)}"
    elif wanted and not found.known:
        notice = f"alert state is {found.problem}: the alerts filter is not applied"
    elif wanted:
        rows = [r for r in rows if _matches(r["alerts"]["state"], wanted)]
    if sort == "alerts":
        rows.sort(key=lambda r: (_RANK.get(r["alerts"]["state"], 3), r["name"]))
    return rows, notice


def _matches(state: str, wanted: str) -> bool:
    if wanted == "active":
        return state in ("firing", "pending")
    return state == wanted


def detail(found: AlertsRead, sla: str) -> dict[str, Any]:
    """An SLA's alerts for its detail page, firing first, then oldest first."""
    mine = found.by_sla.get(sla)
    alerts: Sequence[Alert] = mine.alerts if mine else ()
    return {
        "known": found.known,
        "problem": found.problem,
        "page_url": found.page_url,
        "state": (mine.summary.value if mine else "none") if found.known else None,
        "alerts": [alert_cells(a) for a in alerts],
    }


def alert_cells(alert: Alert) -> dict[str, Any]:
    """One alert's row: name, state, since, severity, objective, other labels."""
    return {
        "name": alert.name,
        "state": alert.state.value,
        "since": rfc3339(alert.active_at) if alert.active_at else None,
        "since_unix": alert.active_at.timestamp() if alert.active_at else None,
        "severity": alert.severity,
        "objective": alert.objective,
        "value": number(alert.finite_value),
        "labels": {k: v for k, v in alert.labels.items() if k not in _SHOWN_ELSEWHERE},
        "summary": alert.annotations.get("summary", ""),
    }
