"""The record of one ETL cycle: what ran, how long each step took, what failed."""

from datetime import datetime
from enum import StrEnum

import attrs


class Step(StrEnum):
    """The timed steps of a cycle."""

    DISCOVERY = "discovery"
    WINDOW_STATS = "window_stats"
    METADATA = "metadata"
    FORECAST = "forecast"
    SCORING = "scoring"
    PUBLISH = "publish"


@attrs.frozen(kw_only=True)
class StepTiming:
    """How long one step took and whether it failed."""

    step: Step
    seconds: float
    error: str | None = None


@attrs.frozen(kw_only=True)
class EtlRun:
    """One cycle of the ETL.

    Attributes:
        run_id: unique id of the cycle.
        started_at, finished_at: wall-clock bounds of the cycle.
        ok: False when any step failed.
        steps: timing and error of every step that ran.
        series_count: series discovered.
        results_published: results handed to the publisher.
    """

    run_id: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    steps: tuple[StepTiming, ...]
    series_count: int
    results_published: int

    @property
    def seconds(self) -> float:
        """Duration of the whole cycle."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def errors(self) -> list[str]:
        """The error of every failed step, as ``step: message``."""
        return [f"{s.step.value}: {s.error}" for s in self.steps if s.error]
