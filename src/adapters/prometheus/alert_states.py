"""Prometheus' active alerts (``GET /api/v1/alerts``) as domain ``Alert`` objects."""

import math
from datetime import UTC, datetime
from typing import Any

from adapters.prometheus.client import JsonObject, PrometheusHttp
from monitoring_core.alerts import NAME_LABEL, Alert, AlertState
from monitoring_core.errors import SourceUnavailable
from monitoring_core.ports import AlertStates

_STATES = {s.value: s for s in AlertState}


class PrometheusAlertStates(AlertStates):
    """Reads the alerts a Prometheus holds pending or firing, of every rule file."""

    def __init__(self, http: PrometheusHttp) -> None:
        self._http = http

    def active(self) -> list[Alert]:
        """Every pending or firing alert; raises SourceUnavailable."""
        data = self._http.get("alerts")
        try:
            items: list[JsonObject] = data["alerts"]
            return [_alert(item) for item in items if item["state"] in _STATES]
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceUnavailable(
                f"Prometheus at {self._http.url}: unexpected /api/v1/alerts "
                f"answer ({type(exc).__name__}: {exc})"
            ) from exc


def _alert(item: JsonObject) -> Alert:
    labels = {str(k): str(v) for k, v in item["labels"].items()}
    annotations = item.get("annotations") or {}
    return Alert(
        name=labels.get(NAME_LABEL, ""),
        state=_STATES[item["state"]],
        labels=labels,
        active_at=_time(item.get("activeAt")),
        value=_value(item.get("value")),
        annotations={str(k): str(v) for k, v in annotations.items()},
    )


def _time(raw: Any) -> datetime | None:
    """RFC 3339 with up to nanoseconds; Prometheus' zero time means unknown."""
    if not raw or str(raw).startswith("0001-01-01"):
        return None
    moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return moment.astimezone(UTC)


def _value(raw: Any) -> float:
    """Prometheus spells the value as text (``"1e+00"``, ``"NaN"``, ``"+Inf"``)."""
    if raw is None:
        return math.nan
    return float(raw)
