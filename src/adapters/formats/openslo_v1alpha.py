"""SLAs as ``openslo/v1alpha`` SLO documents, the only OpenSLO that Sloth reads.

One-way (ADR 0044): Sloth turns each ``ratioMetrics`` pair into the error ratio
``1 - good / total`` over its alert windows, so the good and total queries here
count the objective's good and measured slices ending inside ``{{.window}}``
(the v1 per-slice queries summed on the slice grid). Sloth reads time windows in
whole days only, so any other window is refused; ``allow_pending`` (whether the
SLA manager accepts a selector that matches nothing yet) has no place in
v1alpha and no effect on the rules Sloth writes, so it is not carried.
"""

from adapters.formats.openslo import (
    SLOTH_WINDOW,
    V1ALPHA,
    Document,
    OpenSloError,
    check_name,
    slice_good_query,
    slice_total_query,
    window_query,
)
from monitoring_core.durations import format_duration
from monitoring_core.sla import Objective, Sla

DAY = 86400


def _days(objective: Objective, at: str) -> int:
    days, rest = divmod(objective.window_seconds, DAY)
    if rest:
        raise OpenSloError(
            f"{at}.window {format_duration(objective.window_seconds)}: Sloth reads "
            "openslo/v1alpha time windows in whole days only (e.g. 28d, 30d)"
        )
    return days


def _source(query: str) -> Document:
    return {"source": "prometheus", "queryType": "promql", "query": query}


def _slo(sla: Sla, index: int, objective: Objective) -> Document:
    at = f"objectives[{index}]"
    good = slice_good_query(objective)
    total = slice_total_query(objective)
    ratio = {
        "counter": False,
        "good": _source(window_query(good, objective, SLOTH_WINDOW)),
        "total": _source(window_query(total, objective, SLOTH_WINDOW)),
    }
    window = {"count": _days(objective, at), "unit": "Day", "isRolling": True}
    spec: Document = {"service": sla.name}
    if sla.description:
        spec["description"] = sla.description
    spec["budgetingMethod"] = "Occurrences"
    spec["objectives"] = [{"ratioMetrics": ratio, "target": objective.target}]
    spec["timeWindows"] = [window]
    return {
        "apiVersion": V1ALPHA,
        "kind": "SLO",
        "metadata": {"name": f"{sla.name}-{index}"},
        "spec": spec,
    }


def to_openslo_v1alpha(sla: Sla) -> list[Document]:
    """One v1alpha SLO per objective, named ``<sla>-<index>``.

    Raises:
        OpenSloError: a name OpenSLO cannot hold, or a window not in whole days.
    """
    check_name(sla)
    return [_slo(sla, i, o) for i, o in enumerate(sla.objectives)]
