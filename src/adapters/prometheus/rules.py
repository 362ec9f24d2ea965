"""Prometheus rules of SLAs: the range SLI recorded in Prometheus, and alerts.

Slice semantics as the SLA manager's (``monitoring_core.slo.slices``): the
slice ``[m − Δ, m)`` ending on a multiple m of Δ (Unix time) is judged on the
maximum and minimum of its samples, a value on a bound is good, and a slice
without a sample is left out. In PromQL, ``x[Δ] offset 1ms`` evaluated at m
holds the samples of ``[m − Δ, m)`` (millisecond timestamps); a subquery with
step Δ evaluates it exactly on the multiples of Δ, and ``avg_over_time`` of the
0/1 verdicts is the share of bad slices among the measured ones. The subquery
range is ``W − 1ms`` so that it holds W/Δ points on Prometheus 2 (closed range)
and 3 (left-open) alike. See docs/alerting.md and ADR 0041.
"""

import json
from typing import Any

from monitoring_core.alerting import AlertingPolicy, BurnRateWindow, burn_rate_windows
from monitoring_core.durations import format_duration
from monitoring_core.sla import Objective, Sla

Rule = dict[str, Any]
Group = dict[str, Any]

BAD_SHARE = "monitoring:sla_slice_bad:{window}"
"""Recorded share of bad slices among the measured ones over a trailing window."""
SLI = "monitoring:sla_sli:{window}"
"""Recorded SLI, good / measured slices, over the same window."""
PROBABILITY_GAUGE = "monitoring_sla_predicted_bad_slice_probability_ratio"
REFRESH_GAUGE = "monitoring_sla_refresh_timestamp_seconds"
BURN_ALERTS = {"page": "SLOBurnRatePage", "ticket": "SLOBurnRateTicket"}
MAX_INTERVAL_SECONDS = 60


def number(value: float) -> str:
    """A PromQL number literal, at most 12 significant digits."""
    return f"{value:.12g}"


def _quoted(value: str) -> str:
    return json.dumps(value)


def _matchers(labels: dict[str, str]) -> str:
    return "{" + ",".join(f"{k}={_quoted(v)}" for k, v in labels.items()) + "}"


def _template_safe(text: str) -> str:
    """Text for an annotation: ``{{`` would open a Go template action."""
    return text.replace("{{", '{{ "{{" }}')


def bad_slice_expr(objective: Objective) -> str:
    """1 for a bad slice, 0 for a good one, nothing for an unmeasured one."""
    slice_ = format_duration(objective.slice_seconds)
    span = f"{objective.selector.to_promql()}[{slice_}] offset 1ms"
    lo, hi = objective.allowed.bounds
    above = f"max_over_time({span}) > bool {number(hi)}" if hi is not None else None
    below = f"min_over_time({span}) < bool {number(lo)}" if lo is not None else None
    if above and below:
        return f"clamp_max(({above}) + ({below}), 1)"
    side = above or below
    assert side is not None  # validate_sla requires a bound
    return side


def _window_just_short(seconds: int) -> str:
    """``W − 1ms`` as a duration: ``1h`` gives ``59m59s999ms``."""
    return (format_duration(seconds - 1) if seconds > 1 else "") + "999ms"


def recording_rules(objective: Objective, labels: dict[str, str]) -> list[Rule]:
    """The bad share and the SLI of every alert window of the objective."""
    windows = sorted(
        {w.long_seconds for w in _conditions(objective)}
        | {w.short_seconds for w in _conditions(objective)}
    )
    step = format_duration(objective.slice_seconds)
    rules: list[Rule] = []
    for seconds in windows:
        window = format_duration(seconds)
        verdicts = (
            f"({bad_slice_expr(objective)})[{_window_just_short(seconds)}:{step}]"
        )
        bad = BAD_SHARE.format(window=window)
        rules.append(
            {"record": bad, "expr": f"avg_over_time({verdicts})", "labels": labels}
        )
        rules.append(
            {
                "record": SLI.format(window=window),
                "expr": f"1 - {bad}{_matchers(labels)}",
                "labels": labels,
            }
        )
    return rules


def _conditions(objective: Objective) -> tuple[BurnRateWindow, ...]:
    """The reachable conditions; of two with the same windows and severity (a
    short compliance window rounds several to the same slices) the lower
    factor, which fires whenever the other would."""
    found = burn_rate_windows(objective.window_seconds, objective.slice_seconds)
    kept: dict[tuple[str, int, int], BurnRateWindow] = {}
    for w in found:
        key = (w.severity, w.long_seconds, w.short_seconds)
        if w.reachable(objective.target) and (
            key not in kept or w.factor < kept[key].factor
        ):
            kept[key] = w
    return tuple(kept.values())


def unreachable(objective: Objective) -> tuple[BurnRateWindow, ...]:
    """The conditions left out: their factor is at least ``1 / (1 − T)``."""
    found = burn_rate_windows(objective.window_seconds, objective.slice_seconds)
    return tuple(w for w in found if not w.reachable(objective.target))


def _burn_expr(objective: Objective, w: BurnRateWindow, labels: dict[str, str]) -> str:
    budget = number(1.0 - objective.target)
    factor = number(w.factor)
    both = [
        f"{BAD_SHARE.format(window=window)}{_matchers(labels)} / {budget} > {factor}"
        for window in dict.fromkeys((w.long, w.short))
    ]
    return "(" + " and ".join(both) + ")"


def _annotations(sla: Sla, index: int, summary: str, detail: str, url: str) -> Rule:
    objective = sla.objectives[index]
    return {
        "summary": _template_safe(f"SLA {sla.name}, objective {index}: {summary}"),
        "description": _template_safe(f"{objective.describe()}: {detail}"),
        "sla_url": url,
    }


def burn_rate_alerts(sla: Sla, index: int, url: str) -> list[Rule]:
    """``SLOBurnRatePage`` and ``SLOBurnRateTicket`` of one objective."""
    objective = sla.objectives[index]
    labels = {"sla": sla.name, "objective": str(index)}
    alerts: list[Rule] = []
    for severity, alert in BURN_ALERTS.items():
        chosen = [w for w in _conditions(objective) if w.severity == severity]
        if not chosen:
            continue
        said = ", or ".join(
            f"{number(w.factor)}x over both {w.long} and {w.short}"
            if w.long != w.short
            else f"{number(w.factor)}x over {w.long}"
            for w in chosen
        )
        alerts.append(
            {
                "alert": alert,
                "expr": " or ".join(_burn_expr(objective, w, labels) for w in chosen),
                "labels": {"severity": severity, **labels},
                "annotations": _annotations(
                    sla,
                    index,
                    f"the error budget burns too fast ({severity})",
                    f"burn rate above {said}",
                    url,
                ),
            }
        )
    return alerts


def predicted_breach_alert(
    sla: Sla, index: int, policy: AlertingPolicy, url: str
) -> Rule:
    """``SLOPredictedBreach``: the manager's probability above the threshold."""
    horizon = format_duration(policy.predicted_breach_horizon_seconds)
    labels = {"sla": sla.name, "objective": str(index), "horizon": horizon}
    threshold = number(policy.predicted_breach_probability)
    rule: Rule = {
        "alert": "SLOPredictedBreach",
        "expr": f"{PROBABILITY_GAUGE}{_matchers(labels)} > {threshold}",
    }
    if policy.predicted_breach_for_seconds:
        rule["for"] = format_duration(policy.predicted_breach_for_seconds)
    rule["labels"] = {"severity": "ticket", "sla": sla.name, "objective": str(index)}
    rule["annotations"] = _annotations(
        sla,
        index,
        f"a bad slice is likely within {horizon}",
        f"the SLA manager puts the probability of a bad slice within {horizon} "
        f"above {threshold}",
        url,
    )
    return rule


def sla_groups(sla: Sla, policy: AlertingPolicy, url: str) -> list[Group]:
    """One rule group per objective, evaluated every slice (at most every 1m)."""
    groups: list[Group] = []
    for index, objective in enumerate(sla.objectives):
        labels = {"sla": sla.name, "objective": str(index)}
        interval = min(objective.slice_seconds, MAX_INTERVAL_SECONDS)
        groups.append(
            {
                "name": f"monitoring-sla-{sla.name}-{index}",
                "interval": format_duration(interval),
                "rules": [
                    *recording_rules(objective, labels),
                    *burn_rate_alerts(sla, index, url),
                    predicted_breach_alert(sla, index, policy, url),
                ],
            }
        )
    return groups


def stale_group(after_seconds: int) -> Group:
    """``SLAManagerStale``: no refresh for ``after_seconds``, or no gauge at all."""
    after = format_duration(after_seconds)
    return {
        "name": "monitoring-sla-manager",
        "rules": [
            {
                "alert": "SLAManagerStale",
                "expr": f"time() - max({REFRESH_GAUGE}) > {after_seconds} "
                f"or absent({REFRESH_GAUGE})",
                "for": "1m",
                "labels": {"severity": "ticket"},
                "annotations": {
                    "summary": f"the SLA manager has not refreshed for {after} "
                    "or is not scraped",
                    "description": "SLOPredictedBreach cannot fire while the "
                    f"SLA manager's {REFRESH_GAUGE} is older than {after} or "
                    "absent; burn-rate alerts do not depend on it.",
                },
            }
        ],
    }


def prometheus_rule(groups: list[Group], name: str) -> dict[str, Any]:
    """The groups as a Kubernetes ``PrometheusRule`` (Prometheus Operator)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "monitoring-sla-rules"},
        },
        "spec": {"groups": groups},
    }
