"""The SLA manager's SLO state: every SLA's figures, refreshed and kept for scrapes.

One refresh judges every SLA through the same use cases as ``GetViolations``
(:class:`SlaJudgement`) and ``Predict`` (:class:`PredictionService`) and keeps
the result as an immutable snapshot; ``/metrics`` shows the last snapshot
(ADR 0043). An objective's figure is that of its worst series for that figure:
the lowest SLI and remaining budget, the highest burn rate, bad slices and
probability, the soonest ETA. Per-series figures are kept only for objectives
matching at most ``series_cap`` series, so the number of label sets is bounded.
"""

import logging
import time
from collections.abc import Sequence
from datetime import datetime

import attrs

from monitoring_core.errors import MonitoringError, SlaNotFound
from monitoring_core.ports import Clock
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import DEFAULT_WINDOWS, SlaJudgement
from monitoring_core.services.sla_predictions import (
    DEFAULT_HORIZON,
    PredictionService,
)
from monitoring_core.services.sla_state_figures import (
    ObjectiveState,
    PredictedFigures,
    SeriesState,
    WindowFigures,
    objective_state,
)

__all__ = [
    "ObjectiveState",
    "PredictedFigures",
    "SeriesState",
    "SlaState",
    "SlaStateService",
    "StateSnapshot",
    "WindowFigures",
]

log = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class SlaState:
    """Every objective of one SLA."""

    sla: str
    objectives: tuple[ObjectiveState, ...]


@attrs.frozen(kw_only=True)
class StateSnapshot:
    """What ``/metrics`` shows: the last values of every SLA.

    Attributes:
        slas: by name; an SLA whose refresh failed keeps its last values.
        refreshed_at: the end of the last refresh in which every SLA
            succeeded; None before the first.
        duration_seconds: how long the last refresh took.
        failures: refreshes that failed since the start.
    """

    slas: tuple[SlaState, ...] = ()
    refreshed_at: datetime | None = None
    duration_seconds: float | None = None
    failures: int = 0


class SlaStateService:
    """Refreshes the SLO state of every SLA and keeps the last snapshot.

    A refresh that fails (a dependency down) keeps each failed SLA's last
    values and leaves ``refreshed_at`` alone, so staleness shows; it logs one
    line when refreshes start failing and one when they recover. A deleted SLA
    is gone from the next snapshot.

    Args:
        definitions, judgement, predictions: the SLA manager's use cases.
        clock: stamps a successful refresh.
        windows: the past windows of every objective, in seconds.
        horizon_seconds: the prediction horizon.
        series_cap: per-series figures only for objectives matching at most
            this many series (0: objective level only).
    """

    def __init__(
        self,
        definitions: SlaDefinitions,
        judgement: SlaJudgement,
        predictions: PredictionService,
        clock: Clock,
        windows: Sequence[int] = DEFAULT_WINDOWS,
        horizon_seconds: int = DEFAULT_HORIZON,
        series_cap: int = 0,
    ) -> None:
        self._definitions = definitions
        self._judgement = judgement
        self._predictions = predictions
        self._clock = clock
        self._windows = tuple(windows)
        self._horizon = horizon_seconds
        self._cap = series_cap
        self._failing = False
        self.snapshot = StateSnapshot()
        """The last snapshot; replaced whole, so readers need no lock."""

    def refresh(self) -> bool:
        """Judge and predict every SLA now; whether every SLA succeeded."""
        started = time.perf_counter()
        last = {s.sla: s for s in self.snapshot.slas}
        try:
            names = [sla.name for sla in self._definitions.list_slas()]
        except MonitoringError as exc:
            errors = [f"listing the SLAs: {exc}"]
            self._publish(list(last.values()), errors, time.perf_counter() - started)
            return False
        errors = []
        states: list[SlaState] = []
        for name in names:
            try:
                states.append(self.sla_state(name))
            except SlaNotFound:
                continue  # deleted since the listing
            except MonitoringError as exc:
                errors.append(f"{name}: {exc}")
                if name in last:
                    states.append(last[name])
        self._publish(states, errors, time.perf_counter() - started)
        return not errors

    def sla_state(self, name: str) -> SlaState:
        """The state of one SLA now.

        Raises:
            SlaNotFound: no such SLA.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        past = self._judgement.violations(name, self._windows)
        report = self._predictions.predict(name, self._horizon)
        now = report.at.timestamp()
        return SlaState(
            sla=name,
            objectives=tuple(
                objective_state(p, f, now, self._cap)
                # Both read the SLA; one changed in between is right next time.
                for p, f in zip(past, report.objectives, strict=False)
            ),
        )

    def _publish(self, states: list[SlaState], errors: list[str], took: float) -> None:
        before = self.snapshot
        failed = bool(errors)
        self.snapshot = StateSnapshot(
            slas=tuple(sorted(states, key=lambda s: s.sla)),
            refreshed_at=before.refreshed_at if failed else self._clock.now(),
            duration_seconds=took,
            failures=before.failures + failed,
        )
        if failed and not self._failing:
            log.warning(
                "SLO state refresh failing, keeping the last values: %s",
                "; ".join(errors),
            )
        elif not failed and self._failing:
            log.info("SLO state refresh recovered")
        self._failing = failed
