"""Status: one word for an objective of a series, and the worst of several."""

from collections.abc import Iterable
from enum import StrEnum

from monitoring_core.slo.predictions import Prediction
from monitoring_core.slo.window import WindowReport


class Status(StrEnum):
    """The overall status of an objective."""

    OK = "ok"
    AT_RISK = "at_risk"
    VIOLATING = "violating"
    INSUFFICIENT_DATA = "insufficient_data"
    WARMING_UP = "warming_up"


_STATUS_RANK = {
    Status.OK: 0,
    Status.WARMING_UP: 1,
    Status.INSUFFICIENT_DATA: 2,
    Status.AT_RISK: 3,
    Status.VIOLATING: 4,
}


def objective_status(report: WindowReport, prediction: Prediction | None) -> Status:
    """The status of one objective of one series.

    Insufficient data wins over everything (never green without data), then a
    breach, then a predicted breach or a likely excursion (an ETA). A history
    younger than the window is ``warming_up`` rather than insufficient, unless
    its bad slices already exceed a full window's budget (``violating``).
    """
    if report.insufficient_data:
        if report.warming_up and report.breach_certain:
            return Status.VIOLATING
        if report.warming_up:
            return Status.WARMING_UP
        return Status.INSUFFICIENT_DATA
    if report.breached:
        return Status.VIOLATING
    if prediction is not None and (
        prediction.breach_predicted or prediction.eta is not None
    ):
        return Status.AT_RISK
    return Status.OK


def worst_status(statuses: Iterable[Status]) -> Status:
    """The most severe: violating > at_risk > insufficient_data > warming_up > ok.

    OK for no statuses.
    """
    return max(statuses, key=_STATUS_RANK.__getitem__, default=Status.OK)
