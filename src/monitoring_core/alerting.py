"""SLO alerting policy: burn-rate alert windows and the predicted-breach alert.

The multi-window, multi-burn-rate table of the Google SRE Workbook ("Alerting on
SLOs") is written for a 30-day compliance window: each row pages or opens a
ticket when a share of the whole error budget is spent within its long window
(and is still being spent within its short one). An objective's own window W
keeps each row's share of budget. Up to 30 days the windows shrink in
proportion to W, so the factors stay the Workbook's; above 30 days the windows
stay and the factors grow: ``factor = share · W / long``. Windows are whole
slices (rounded up, at least one), and the factor is computed from the rounded
long window, so it always means the row's share of budget.
"""

import math

import attrs

from monitoring_core.durations import format_duration

WORKBOOK_WINDOW_SECONDS = 30 * 86400
"""The compliance window the Workbook's table is written for."""


@attrs.frozen(kw_only=True)
class WorkbookRow:
    """One row of the Workbook's table at a 30-day window.

    Attributes:
        severity: ``page`` or ``ticket``.
        budget_share: share of the whole budget spent within the long window.
        long_seconds, short_seconds: the two windows at 30 days.
    """

    severity: str
    budget_share: float
    long_seconds: int
    short_seconds: int


WORKBOOK = (
    WorkbookRow(
        severity="page", budget_share=0.02, long_seconds=3600, short_seconds=300
    ),
    WorkbookRow(
        severity="page", budget_share=0.05, long_seconds=6 * 3600, short_seconds=1800
    ),
    WorkbookRow(
        severity="ticket", budget_share=0.10, long_seconds=86400, short_seconds=7200
    ),
    WorkbookRow(
        severity="ticket",
        budget_share=0.10,
        long_seconds=3 * 86400,
        short_seconds=6 * 3600,
    ),
)
"""Page: 2 % in 1h/5m (14.4), 5 % in 6h/30m (6); ticket: 10 % in 1d/2h (3) and
3d/6h (1)."""


@attrs.frozen(kw_only=True)
class BurnRateWindow:
    """One burn-rate condition of an objective: both windows above the factor.

    Attributes:
        severity: ``page`` or ``ticket``.
        budget_share: the share of the budget the condition stands for.
        long_seconds, short_seconds: whole slices of the objective.
        factor: the burn rate both windows must exceed.
    """

    severity: str
    budget_share: float
    long_seconds: int
    short_seconds: int
    factor: float

    def threshold(self, target: float) -> float:
        """The bad-slice share the windows must exceed: ``factor · (1 − T)``."""
        return self.factor * (1.0 - target)

    def reachable(self, target: float) -> bool:
        """Whether the burn rate can exceed the factor at all: ``factor < 1/(1−T)``.

        At a bad share of 1 the burn rate is ``1 / (1 − T)``; a factor at or
        above it can never fire, so such a condition is left out.
        """
        return self.threshold(target) < 1.0

    @property
    def long(self) -> str:
        """The long window as a Prometheus duration."""
        return format_duration(self.long_seconds)

    @property
    def short(self) -> str:
        """The short window as a Prometheus duration."""
        return format_duration(self.short_seconds)


def _whole_slices(seconds: float, slice_seconds: int) -> int:
    return max(1, math.ceil(seconds / slice_seconds - 1e-9)) * slice_seconds


def burn_rate_windows(
    window_seconds: int, slice_seconds: int
) -> tuple[BurnRateWindow, ...]:
    """The Workbook's four conditions scaled to one objective's window and slice.

    Args:
        window_seconds: the objective's compliance window W.
        slice_seconds: its slice length Δ.

    Returns:
        The page conditions first, then the ticket ones, as in :data:`WORKBOOK`.
    """
    scale = min(1.0, window_seconds / WORKBOOK_WINDOW_SECONDS)
    rows = []
    for row in WORKBOOK:
        long = _whole_slices(row.long_seconds * scale, slice_seconds)
        short = min(long, _whole_slices(row.short_seconds * scale, slice_seconds))
        rows.append(
            BurnRateWindow(
                severity=row.severity,
                budget_share=row.budget_share,
                long_seconds=long,
                short_seconds=short,
                factor=row.budget_share * window_seconds / long,
            )
        )
    return tuple(rows)


@attrs.frozen(kw_only=True)
class AlertingPolicy:
    """How one SLA alerts on the SLA manager's predictions.

    Attributes:
        predicted_breach_probability: the probability of at least one bad slice
            within the horizon above which ``SLOPredictedBreach`` is pending.
        predicted_breach_for_seconds: how long it must stay above to fire.
        predicted_breach_horizon_seconds: the horizon of the manager's gauge.
    """

    predicted_breach_probability: float = 0.5
    predicted_breach_for_seconds: int = 300
    predicted_breach_horizon_seconds: int = 600

    def __attrs_post_init__(self) -> None:
        if not 0.0 < self.predicted_breach_probability < 1.0:
            raise ValueError(
                "the predicted-breach probability must lie strictly between 0 "
                f"and 1, not {self.predicted_breach_probability}"
            )
        if self.predicted_breach_for_seconds < 0:
            raise ValueError("the predicted-breach 'for' must not be negative")
        if self.predicted_breach_horizon_seconds <= 0:
            raise ValueError("the predicted-breach horizon must be positive")
