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
        results_delivered: of those, the ones the transport had acknowledged
            when the cycle ended; None where it is not known (a record read
            back from a store that does not keep it, or from an older ETL).
        results_buffered: results still waiting in the publisher's bounded
            buffer when the cycle ended (this cycle's and any earlier one's,
            e.g. while the broker is away); None where it is not known.
        aborted: why the cycle never finished, on the record published at
            restart for a cycle that started and never ended (ADR 0053);
            None for a cycle that ran to its end.
        worker: the ETL worker that ran the cycle (its instance id, ADR
            0055); None where it is not known (an older ETL).
        shards: the shards whose series the cycle analysed, ascending; None
            where it is not known. A cycle of an unsharded ETL covers every
            shard.
    """

    run_id: str
    started_at: datetime
    finished_at: datetime
    ok: bool
    steps: tuple[StepTiming, ...]
    series_count: int
    results_published: int
    results_delivered: int | None = None
    results_buffered: int | None = None
    aborted: str | None = None
    worker: str | None = None
    shards: tuple[int, ...] | None = None

    @property
    def status(self) -> str:
        """``ok``, ``failed`` (a step failed) or ``aborted`` (never finished)."""
        if self.aborted is not None:
            return "aborted"
        return "ok" if self.ok else "failed"

    @property
    def seconds(self) -> float:
        """Duration of the whole cycle."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def errors(self) -> list[str]:
        """The error of every failed step, as ``step: message``."""
        found = [f"{s.step.value}: {s.error}" for s in self.steps if s.error]
        if self.aborted is not None:
            found.append(f"aborted: {self.aborted}")
        return found


def aborted_run(
    run_id: str,
    started_at: datetime,
    found_at: datetime,
    reason: str,
    worker: str | None = None,
) -> EtlRun:
    """The record of a cycle that started at ``started_at`` and never finished.

    Published at restart, when the cycle's marker is found (ADR 0053): its end
    is unknown, so ``finished_at`` is when the marker was found; nothing is
    known to have been published.
    """
    return EtlRun(
        run_id=run_id,
        started_at=started_at,
        finished_at=max(found_at, started_at),
        ok=False,
        steps=(),
        series_count=0,
        results_published=0,
        aborted=reason,
        worker=worker,
    )
