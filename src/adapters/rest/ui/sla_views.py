"""What the console shows of SLAs, read through ``SlaConsoleSource`` (ADR 0056).

Nothing here computes an SLO figure: the source answers from the SLA manager's
use cases (in process in ``monitoring run``, over gRPC in ``monitoring api``).
The overview shows the SLO state snapshot that ``/metrics`` shows
(``SlaStateService``, ADR 0043), aggregated by the same worst-figure rule
(``worst_window``, ``worst_predicted``); the detail page shows the slices and
judgement of ``SlaJudgement`` (as ``GetViolations``), the forecast from the
result store (as ``GET /v1/series/{id}/forecast`` does) and the past
predictions' score from ``PredictionService.score``.
"""

import math
from collections.abc import Sequence
from typing import Any

from adapters.formats.json_values import forecast_body, number, series_ref
from monitoring_core.durations import format_duration
from monitoring_core.ports import ResultQueries
from monitoring_core.prediction_scores import PredictionScore
from monitoring_core.services.sla_console import (
    BudgetPath,
    SeriesRange,
    SlaConsoleSource,
)
from monitoring_core.services.sla_state import (
    ObjectiveState,
    PredictedFigures,
    SlaState,
    StateSnapshot,
    WindowFigures,
)
from monitoring_core.services.sla_state_figures import worst_predicted, worst_window
from monitoring_core.sla import Objective, Sla
from monitoring_core.slo import Status, worst_status

MAX_CHARTED_SERIES = 5
"""Series charted per objective on the detail page; the table lists them all."""


def _pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.2%}"


def _ratio(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _eta(predicted: PredictedFigures | None) -> str:
    if predicted is None or predicted.eta_seconds is None:
        return "–"
    return "now" if predicted.eta_seconds <= 0 else f"in {predicted.eta_seconds:.0f} s"


def window_cells(figures: WindowFigures) -> dict[str, Any]:
    """One window's figures, as numbers (for sorting and JSON) and as text."""
    return {
        "window": format_duration(figures.window_seconds),
        "sli": number(figures.sli),
        "budget_remaining": number(figures.budget_remaining),
        "burn_rate": number(figures.burn_rate),
        "sli_text": _pct(figures.sli),
        "budget_text": _pct(figures.budget_remaining),
        "burn_text": _ratio(figures.burn_rate),
        "above_slices": figures.above_slices,
        "below_slices": figures.below_slices,
    }


def predicted_cells(predicted: PredictedFigures | None) -> dict[str, Any]:
    """The prediction over the horizon, as numbers and as text."""
    if predicted is None:
        return {
            "horizon": None,
            "probability": None,
            "eta_seconds": None,
            "text": "–",
            "eta": "–",
        }
    return {
        "horizon": format_duration(predicted.horizon_seconds),
        "probability": number(predicted.bad_slice_probability),
        "eta_seconds": number(predicted.eta_seconds),
        "expected_bad_slices": number(predicted.expected_bad_slices),
        "text": _pct(predicted.bad_slice_probability),
        "eta": _eta(predicted),
    }


def _sla_windows(objectives: Sequence[ObjectiveState]) -> list[WindowFigures]:
    """The worst of every objective, window by window (the default windows)."""
    shortest = min((len(o.windows) for o in objectives), default=0)
    return [
        worst_window(
            objectives[0].windows[i].window_seconds, [o.windows[i] for o in objectives]
        )
        for i in range(max(0, shortest - 1))  # the last is each one's compliance
    ]


def _compliance(objectives: Sequence[ObjectiveState]) -> float | None:
    budgets = [o.windows[-1].budget_remaining for o in objectives if o.windows]
    known = [b for b in budgets if b is not None]
    return min(known) if known else None


def overview_row(state: SlaState, sla: Sla | None) -> dict[str, Any]:
    """One SLA on the overview: its worst figures over its objectives."""
    objectives = state.objectives
    predicted = worst_predicted([o.predicted for o in objectives if o.predicted])
    status = (
        worst_status(o.status for o in objectives)
        if objectives
        else Status.INSUFFICIENT_DATA
    )
    budget = _compliance(objectives)
    selectors = [] if sla is None else [o.selector.to_promql() for o in sla.objectives]
    return {
        "name": state.sla,
        "status": status.value,
        "objectives": len(objectives),
        "series": sum(o.series_count for o in objectives),
        "windows": [window_cells(w) for w in _sla_windows(objectives)],
        "budget_remaining": number(budget),
        "budget_text": _pct(budget),
        "predicted": predicted_cells(predicted),
        "selectors": selectors,
        "description": "" if sla is None else sla.description,
    }


SORT_KEYS = ("name", "status", "budget", "burn", "probability")
_STATUS_ORDER = {
    "violating": 0,
    "at_risk": 1,
    "insufficient_data": 2,
    "warming_up": 3,
    "ok": 4,
}


def _sort_key(sort: str) -> Any:
    def numeric(value: Any, missing: float) -> float:
        return value if isinstance(value, int | float) else missing

    def key(row: dict[str, Any]) -> Any:
        if sort == "status":
            return (_STATUS_ORDER.get(row["status"], 9), row["name"])
        if sort == "budget":
            return (numeric(row["budget_remaining"], math.inf), row["name"])
        if sort == "burn":
            burn = row["windows"][0]["burn_rate"] if row["windows"] else None
            return (-numeric(burn, -math.inf), row["name"])
        if sort == "probability":
            return (-numeric(row["predicted"]["probability"], -math.inf), row["name"])
        return row["name"]

    return key


def overview(
    source: SlaConsoleSource, query: str, sort: str
) -> tuple[list[dict[str, Any]], StateSnapshot]:
    """Every SLA of the last snapshot whose name or selectors contain ``query``."""
    snapshot = source.snapshot()
    defined = {s.name: s for s in source.list_slas()}
    rows = [overview_row(s, defined.get(s.sla)) for s in snapshot.slas]
    needle = query.strip().lower()
    if needle:
        rows = [
            r
            for r in rows
            if needle in r["name"].lower()
            or any(needle in s.lower() for s in r["selectors"])
        ]
    rows.sort(key=_sort_key(sort if sort in SORT_KEYS else "name"))
    return rows, snapshot


def _series_chart(
    objective: Objective, found: SeriesRange, queries: ResultQueries
) -> dict[str, Any]:
    forecast = queries.latest_forecast(found.series.id)
    return {
        "series": series_ref(found.series),
        "t": list(found.starts),
        "min": [number(v) for v in found.minimum],
        "max": [number(v) for v in found.maximum],
        "lo": objective.allowed.lo,
        "hi": objective.allowed.hi,
        "forecast": forecast_body(forecast) if forecast and forecast.points else None,
        "episodes": [
            {
                "side": e.side.value,
                "start": e.start,
                "end": e.end,
                "open": e.open,
                "bad_slices": e.bad_slices,
                "worst_value": number(e.worst_value),
            }
            for e in found.episodes
        ],
        "sli": number(found.sli),
        "sli_text": _pct(found.sli),
        "budget_remaining": number(found.budget_remaining),
    }


def _score_cells(score: PredictionScore | None) -> dict[str, Any] | None:
    if score is None:
        return None
    return {
        "predictions": score.predictions,
        "slices_compared": score.slices_compared,
        "predicted_bad": score.predicted_bad,
        "bad": score.bad,
        "true_positives": score.true_positives,
        "brier": number(score.brier),
        "interval_coverage": number(score.interval_coverage),
        "precision": number(score.precision),
    }


def detail(
    source: SlaConsoleSource,
    queries: ResultQueries,
    name: str,
    range_seconds: int,
) -> dict[str, Any]:
    """One SLA: every objective's figures, charts over the range and scores.

    Raises:
        SlaNotFound: no such SLA.
        SlaManagerUnavailable, SourceUnavailable, StoreUnavailable: a
            dependency is down.
    """
    found = source.sla_range(name, range_seconds, MAX_CHARTED_SERIES)
    sla, state = found.sla, found.state
    figures = {} if state is None else {o.objective: o for o in state.objectives}
    objectives = []
    for objective, shown in zip(sla.objectives, found.objectives, strict=True):
        own = figures.get(str(shown.index))
        objectives.append(
            {
                "index": shown.index,
                "describe": objective.describe(),
                "status": own.status.value if own else None,
                "windows": [window_cells(w) for w in own.windows] if own else [],
                "predicted": predicted_cells(own.predicted if own else shown.previewed),
                "series_count": shown.series_count,
                "charts": [_series_chart(objective, s, queries) for s in shown.series],
                "score": _score_cells(shown.score),
            }
        )
    return {
        "sla": sla.name,
        "description": sla.description,
        "status": state_status(state),
        "range": format_duration(range_seconds),
        "objectives": objectives,
    }


def state_status(state: SlaState | None) -> str | None:
    """The worst objective status of a snapshot entry (None: not refreshed)."""
    if state is None or not state.objectives:
        return None
    return worst_status(o.status for o in state.objectives).value


BURN_POINTS = 48
"""Points of a burn-down chart: each judges one whole compliance window."""


def burn_down(
    source: SlaConsoleSource,
    name: str,
    index: int,
    range_seconds: int,
) -> dict[str, Any]:
    """An objective's error budget remaining over the range, series by series.

    Each point is the remaining budget of the compliance window ending there
    (the figure ``GetViolations`` gives at that time), at up to
    ``BURN_POINTS`` slice boundaries across the range.

    Raises:
        SlaNotFound: no such SLA, or no objective ``index``.
        SlaManagerUnavailable, SourceUnavailable: a dependency is down.
    """
    found = source.burn_down(
        name, index, range_seconds, BURN_POINTS, MAX_CHARTED_SERIES
    )
    objective = found.sla.objectives[index]
    return {
        "sla": found.sla.name,
        "objective": index,
        "describe": objective.describe(),
        "window": format_duration(objective.window_seconds),
        "range": format_duration(range_seconds),
        "horizon": format_duration(found.horizon_seconds),
        "series": [
            {
                "series": series_ref(s.series),
                "t": list(s.past.ends),
                "budget": [number(v) for v in s.past.budget],
                "predicted": _continuation(s.predicted, s.breach_at),
            }
            for s in found.series
        ],
    }


def _continuation(path: BudgetPath | None, breach_at: float | None) -> Any:
    """The projected budget remaining at the end of each predicted slice."""
    if path is None:
        return None
    return {
        "t": list(path.ends),
        "budget": [number(v) for v in path.budget],
        "breach_at": breach_at,
    }
