"""Readable tables of the SLA manager's answers, for a terminal."""

from collections.abc import Sequence
from datetime import UTC

from google.protobuf.timestamp_pb2 import Timestamp

from adapters.grpc.convert import SIDE_NAMES, STATUS_NAMES
from adapters.grpc.generated import sla_manager_pb2 as pb


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, like kubectl."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)
        ).rstrip()
        for row in [header, *rows]
    )


def when(stamp: Timestamp) -> str:
    """``2026-11-27 10:02:00Z``, or ``-`` when unset."""
    if not stamp.seconds and not stamp.nanos:
        return "-"
    return stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def minutes(seconds: float) -> str:
    """``90s`` as ``1m30s``; whole hours as ``2h``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    mins, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return text + (f"{secs}s" if secs or not text else "")


def percent(value: float | None, digits: int = 2) -> str:
    """A share as a percentage, ``-`` when absent."""
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _optional(message: object, field: str) -> float | None:
    has = getattr(message, "HasField")  # noqa: B009 - protobuf API
    return float(getattr(message, field)) if has(field) else None


def _range(objective: pb.Objective) -> str:
    lo = f"{objective.lo:.12g}" if objective.HasField("lo") else "-inf"
    hi = f"{objective.hi:.12g}" if objective.HasField("hi") else "+inf"
    return f"[{lo}, {hi}]"


def series_text(series: pb.Series) -> str:
    """``name{a="b"}``."""
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(series.labels.items()))
    return f"{series.name}{{{labels}}}" if labels else series.name


def applied(responses: Sequence[pb.ApplySlaResponse]) -> str:
    """One line per SLA: created, configured or unchanged, with its version."""
    lines = []
    for r in responses:
        verb = "unchanged"
        if r.changed:
            verb = "created" if r.sla.version == 1 else "configured"
        lines.append(f"sla {r.sla.name} {verb} (version {r.sla.version})")
    return "\n".join(lines)


def sla_list(slas: Sequence[pb.Sla]) -> str:
    """Name, objective count, version and last change of each SLA."""
    if not slas:
        return "no SLAs"
    return table(
        ["NAME", "OBJECTIVES", "VERSION", "UPDATED"],
        [
            [s.name, str(len(s.objectives)), str(s.version), when(s.updated_at)]
            for s in slas
        ],
    )


def sla_detail(sla: pb.Sla) -> str:
    """The SLA's header and a row per objective."""
    head = f"sla {sla.name} (version {sla.version}, updated {when(sla.updated_at)})"
    if sla.description:
        head += f"\n{sla.description}"
    rows = [
        [
            str(i),
            o.selector,
            _range(o),
            percent(o.target, 3),
            o.window,
            o.slice,
            "yes" if o.allow_pending else "no",
        ]
        for i, o in enumerate(sla.objectives)
    ]
    header = ["#", "SELECTOR", "RANGE", "TARGET", "WINDOW", "SLICE", "PENDING OK"]
    text = head + "\n" + table(header, rows)
    if sla.HasField("alerting"):  # absent: the defaults (docs/alerting.md)
        a = sla.alerting
        text += (
            f"\nalerting: SLOPredictedBreach when P(bad slice within "
            f"{a.predicted_breach_horizon}) > {a.predicted_breach_probability:g} "
            f"for {a.predicted_breach_for}"
        )
    return text


def _episode(e: pb.Episode) -> str:
    end = "open" if e.open else when(e.end)
    gap = f", {e.unmeasured_slices} unmeasured" if e.unmeasured_slices else ""
    return (
        f"    {SIDE_NAMES.get(e.side, '?')} {when(e.start)} -> {end}: "
        f"{minutes(e.duration_seconds)}, {e.bad_slices} bad slices{gap}, "
        f"worst {e.worst_value:g} ({e.worst_distance:+g} beyond the bound)"
    )


def violations(report: pb.ViolationsReport) -> str:
    """Per objective and window: a row per series, then its episodes."""
    parts = [f"sla {report.name} at {when(report.at)}"]
    header = [
        "WINDOW",
        "SERIES",
        "SLI",
        "EXCURSIONS",
        "EPISODES",
        "BAD TIME",
        "BUDGET LEFT",
        "BURN",
        "COVERAGE",
        "BREACH",
    ]
    for objective in report.objectives:
        parts.append(
            f"\nobjective {objective.index}: {objective.objective.selector} "
            f"in {_range(objective.objective)}, target "
            f"{percent(objective.objective.target, 3)}"
        )
        rows: list[list[str]] = []
        episodes: list[str] = []
        for window in objective.windows:
            if not window.series:
                rows.append([window.window, "(no series with samples)"] + [""] * 8)
            for item in window.series:
                r = item.report
                burn = _optional(r, "burn_rate")
                rows.append(
                    [
                        window.window,
                        series_text(item.series),
                        percent(_optional(r, "sli"), 3),
                        f"{r.above_slices + r.below_slices} "
                        f"({r.above_slices}↑ {r.below_slices}↓)",
                        str(len(r.episodes)),
                        minutes(sum(e.duration_seconds for e in r.episodes)),
                        f"{percent(_optional(r, 'budget_remaining'), 1)} "
                        f"({r.budget_remaining_minutes:.1f} min)",
                        "-" if burn is None else f"{burn:.2f}",
                        percent(r.coverage, 1)
                        + (" (warming up)" if r.warming_up else ""),
                        "yes" if r.breached else "no",
                    ]
                )
                episodes += (
                    [f"  {window.window} {series_text(item.series)}:"]
                    + [_episode(e) for e in r.episodes]
                    if r.episodes
                    else []
                )
        parts.append(table(header, rows))
        if episodes:
            parts.append("episodes:\n" + "\n".join(episodes))
    return "\n".join(parts)


def warming_up(coverage: float) -> str:
    """``warming up: 37 % of the window measured``."""
    return f"warming up: {coverage * 100:.0f} % of the window measured"


def _series_status(s: pb.SeriesPrediction) -> str:
    if s.status == pb.STATUS_WARMING_UP:
        return warming_up(s.compliance.coverage)
    return STATUS_NAMES.get(s.status, "?")


def _sla_status(report: pb.PredictionReport) -> str:
    """The SLA's status; warming up says how much of the least measured window."""
    if report.status != pb.STATUS_WARMING_UP:
        return STATUS_NAMES.get(report.status, "?")
    young = [
        s.compliance.coverage
        for o in report.objectives
        for s in o.series
        if s.status == pb.STATUS_WARMING_UP
    ]
    return warming_up(min(young)) if young else "warming up"


def _eta(s: pb.SeriesPrediction) -> str:
    if not s.HasField("eta"):
        return "-"
    side = SIDE_NAMES.get(s.eta.side, "")
    return f"{when(s.eta.start)} ({percent(s.eta.probability, 0)} {side})"


def prediction(report: pb.PredictionReport) -> str:
    """Status of the SLA, and per series: ETA, expected bad slices, budgets."""
    parts = [
        f"sla {report.name}: {_sla_status(report)} at "
        f"{when(report.at)}, horizon {report.horizon}"
    ]
    header = [
        "OBJ",
        "SERIES",
        "STATUS",
        "SLI",
        "BUDGET NOW",
        "ETA (P, SIDE)",
        "EXPECTED BAD",
        "BUDGET PROJECTED",
        "BREACH",
    ]
    rows = []
    for o in report.objectives:
        if not o.series:
            rows.append(
                [
                    str(o.index),
                    o.objective.selector,
                    STATUS_NAMES.get(o.status, "?"),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
        for s in o.series:
            has_forecast = s.HasField("forecast_made_at")
            rows.append(
                [
                    str(o.index),
                    series_text(s.series),
                    _series_status(s),
                    percent(_optional(s.compliance, "sli"), 3),
                    percent(_optional(s.compliance, "budget_remaining"), 1),
                    _eta(s) if has_forecast else "no forecast",
                    f"{s.expected_bad_slices:.2f}" if has_forecast else "-",
                    percent(_optional(s, "projected_budget_remaining"), 1),
                    when(s.breach_at) if s.breach_predicted else "no",
                ]
            )
    parts.append(table(header, rows))
    return "\n".join(parts)


def status(report: pb.PredictionReport) -> str:
    """The same view as ``predict`` with the default horizon."""
    return prediction(report)


def scores(report: pb.PredictionScoreReport) -> str:
    """Per objective: predictions scored, precision, recall, Brier, coverage."""
    header = [
        "OBJ",
        "SELECTOR",
        "PREDICTIONS",
        "SLICES",
        "PREDICTED BAD",
        "BAD",
        "PRECISION",
        "RECALL",
        "BRIER",
        "95% COVERAGE",
    ]
    rows = []
    for o in report.objectives:
        s = o.score
        brier = _optional(s, "brier")
        rows.append(
            [
                str(o.index),
                o.objective.selector,
                str(s.predictions),
                str(s.slices_compared),
                str(s.predicted_bad),
                str(s.bad),
                percent(_optional(s, "precision"), 1),
                percent(_optional(s, "recall"), 1),
                "-" if brier is None else f"{brier:.4f}",
                percent(_optional(s, "interval_coverage"), 1),
            ]
        )
    head = (
        f"sla {report.name}: predictions made in the last {report.lookback}, "
        f"scored at {when(report.at)}"
    )
    return head + "\n" + table(header, rows)
