"""SLAs as OpenSLO documents: ``openslo/v1`` and Sloth's ``openslo/v1alpha``.

A pure mapping (ADR 0044): plain dicts out, ready for a YAML dumper. Every
objective becomes one ratio SLI whose events are its slices: *good* = slices
whose samples all lie in ``[lo, hi]`` (judged on the slice's max and min, a
value on a bound is good), *total* = slices with a non-NaN sample. The v1 queries
judge one slice, evaluated at its end m on the Unix-aligned slice grid: ``S[Δ]
offset 1ms`` holds the samples of ``[m − Δ, m)`` (millisecond timestamps), as the
SLA manager cuts slices and as the rules of ``monitoring sla rules`` do. The
v1alpha ones sum them over Sloth's ``{{.window}}`` with a subquery on that grid.
What OpenSLO cannot hold is refused with :class:`OpenSloError`, never dropped.
"""

import re
from typing import Any

from monitoring_core.durations import format_duration
from monitoring_core.sla import Objective, Sla

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
ALLOW_PENDING = "sla.monitoring/allow-pending"
"""SLO annotation carrying ``allow_pending``, which OpenSLO has no field for."""
OPENSLO_NAME = re.compile(r"[a-z0-9][a-z0-9.|/\\-]*[a-z0-9]*")
"""The name pattern of the v1 schema (``parts/name.schema.json``)."""
SLOTH_WINDOW = "{{.window}}"
_SHORTHAND = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60))

Document = dict[str, Any]


class OpenSloError(ValueError):
    """An SLA or a document the OpenSLO mapping cannot carry; names the field."""


def number(value: float) -> str:
    """A bound as PromQL reads it back exactly (``repr`` round-trips a float)."""
    return repr(float(value))


def good_query(selector: str, step: str, lo: float | None, hi: float | None) -> str:
    """1 for a slice inside ``[lo, hi]``, 0 for one outside; one slice, at its end."""
    sides = []
    if hi is not None:
        sides.append(
            f"max_over_time({selector}[{step}] offset 1ms) <= bool {number(hi)}"
        )
    if lo is not None:
        sides.append(
            f"min_over_time({selector}[{step}] offset 1ms) >= bool {number(lo)}"
        )
    return " * ".join(f"({side})" for side in sides)


def total_query(selector: str, step: str) -> str:
    """1 for a slice with a non-NaN sample (``NaN <= Inf`` is false), else 0."""
    return f"min_over_time({selector}[{step}] offset 1ms) <= bool Inf"


def slice_good_query(objective: Objective) -> str:
    """:func:`good_query` of an objective."""
    allowed = objective.allowed
    step = format_duration(objective.slice_seconds)
    return good_query(objective.selector.to_promql(), step, allowed.lo, allowed.hi)


def slice_total_query(objective: Objective) -> str:
    """:func:`total_query` of an objective."""
    step = format_duration(objective.slice_seconds)
    return total_query(objective.selector.to_promql(), step)


def window_query(slice_query: str, objective: Objective, window: str) -> str:
    """A per-slice query summed over the slices ending inside ``window``."""
    step = format_duration(objective.slice_seconds)
    return f"sum_over_time(({slice_query})[{window}:{step}])"


def shorthand(seconds: int) -> str | None:
    """An OpenSLO duration shorthand (``15m``, ``30d``); None unless whole minutes."""
    for unit, size in _SHORTHAND:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return None


def check_name(sla: Sla) -> None:
    if not OPENSLO_NAME.fullmatch(sla.name) or "_" in sla.name:
        raise OpenSloError(
            f'name "{sla.name}": OpenSLO names hold only a-z, 0-9, ".", "-", "/" '
            f"and \"|\" (no '_'); rename the SLA to export it"
        )


def _window(objective: Objective, at: str) -> str:
    text = shorthand(objective.window_seconds)
    if text is None:
        raise OpenSloError(
            f"{at}.window {format_duration(objective.window_seconds)}: OpenSLO "
            "time windows are whole minutes (m, h, d, w)"
        )
    return text


def _slice_window(objective: Objective) -> str | float:
    """The slice as a shorthand, or in minutes (the v1 unit of a bare number)."""
    return shorthand(objective.slice_seconds) or objective.slice_seconds / 60


def _metadata(name: str, objective: Objective | None = None) -> Document:
    metadata: Document = {"name": name}
    if objective is not None and objective.allow_pending:
        metadata["annotations"] = {ALLOW_PENDING: "true"}
    return metadata


def _source(query: str) -> Document:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _sli(name: str, objective: Objective) -> Document:
    ratio = {
        "counter": False,
        "good": _source(slice_good_query(objective)),
        "total": _source(slice_total_query(objective)),
    }
    return {
        "apiVersion": V1,
        "kind": "SLI",
        "metadata": _metadata(name),
        "spec": {"ratioMetric": ratio},
    }


def _slo(sla: Sla, name: str, objective: Objective, at: str) -> Document:
    spec = {
        "service": sla.name,
        "indicatorRef": name,
        "timeWindow": [{"duration": _window(objective, at), "isRolling": True}],
        "budgetingMethod": "Timeslices",
        "objectives": [
            {
                "target": objective.target,
                "timeSliceTarget": 1,
                "timeSliceWindow": _slice_window(objective),
            }
        ],
    }
    return {
        "apiVersion": V1,
        "kind": "SLO",
        "metadata": _metadata(name, objective),
        "spec": spec,
    }


def to_openslo_v1(sla: Sla) -> list[Document]:
    """A Service, then an SLI and an SLO per objective (named ``<sla>-<index>``).

    Raises:
        OpenSloError: a name or window OpenSLO cannot hold, by field.
    """
    check_name(sla)
    service: Document = {"apiVersion": V1, "kind": "Service"}
    service["metadata"] = _metadata(sla.name)
    service["spec"] = {"description": sla.description} if sla.description else {}
    documents = [service]
    for index, objective in enumerate(sla.objectives):
        name, at = f"{sla.name}-{index}", f"objectives[{index}]"
        documents += [_sli(name, objective), _slo(sla, name, objective, at)]
    return documents
