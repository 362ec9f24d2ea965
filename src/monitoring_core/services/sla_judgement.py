"""The SLA manager's judgement: each objective's series sliced and judged."""

import math
from collections.abc import Sequence
from datetime import UTC, datetime

import attrs

from monitoring_core.ports import Clock, SampleSource
from monitoring_core.series import SeriesKey, SeriesSamples
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.sla import Objective
from monitoring_core.slo import Slice, WindowReport, evaluate_window, slice_samples

DEFAULT_WINDOWS = (3600, 3 * 3600, 12 * 3600)


@attrs.frozen(kw_only=True)
class SeriesWindow:
    """One series judged over one window."""

    series: SeriesKey
    report: WindowReport


@attrs.frozen(kw_only=True)
class WindowViolations:
    """Every matched series of one objective over one window."""

    window_seconds: int
    start: datetime
    end: datetime
    series: tuple[SeriesWindow, ...]


@attrs.frozen(kw_only=True)
class ObjectiveViolations:
    """An objective's past violations, window by window."""

    index: int
    objective: Objective
    windows: tuple[WindowViolations, ...]


def at(seconds: float) -> datetime:
    """The aware UTC datetime of a Unix time."""
    return datetime.fromtimestamp(seconds, UTC)


def aligned_end(now: datetime, slice_seconds: int) -> float:
    """The end of the last complete slice: slices are aligned to Unix time."""
    return math.floor(now.timestamp() / slice_seconds) * slice_seconds


def _by_key(samples: SeriesSamples) -> str:
    return samples.key.canonical


class SlaJudgement:
    """Judges the series of SLA objectives over past windows, slice by slice.

    Args:
        definitions: where the SLAs are found.
        samples: raw samples for the past.
        clock: the current time.
        coverage_floor: below this share of measured slices, a series is
            ``insufficient_data`` rather than green.
    """

    def __init__(
        self,
        definitions: SlaDefinitions,
        samples: SampleSource,
        clock: Clock,
        coverage_floor: float = 0.9,
    ) -> None:
        self._definitions = definitions
        self._samples = samples
        self._clock = clock
        self._coverage_floor = coverage_floor

    def sliced(
        self, objective: Objective, start: float, end: float
    ) -> list[tuple[SeriesKey, tuple[Slice, ...]]]:
        """Every series the objective selects in ``[start, end)``, sliced and judged.

        Args:
            objective: whose selector, slice length and kind are used.
            start, end: whole slices apart (Unix time).

        Returns:
            ``(series, slices)`` by series key.

        Raises:
            SourceUnavailable: Prometheus could not answer.
        """
        found = self._samples.samples(objective.selector, at(start), at(end))
        return [
            (
                s.key,
                slice_samples(
                    s.samples, start, end, objective.slice_seconds, objective.kind
                ),
            )
            for s in sorted(found, key=_by_key)
        ]

    def report(self, objective: Objective, slices: Sequence[Slice]) -> WindowReport:
        """The window report of one series' slices."""
        return evaluate_window(
            slices,
            objective.kind,
            objective.target,
            objective.slice_seconds,
            self._coverage_floor,
        )

    def violations(
        self, name: str, windows: Sequence[int] = DEFAULT_WINDOWS
    ) -> list[ObjectiveViolations]:
        """Past violations of every objective over each trailing window.

        Every window ends at the end of the last complete slice; all series the
        selector matched with a sample in the longest window are reported in
        every window, a series silent in a shorter one with coverage 0
        (``insufficient_data``): a series that stops reporting is not green.
        A window that is not a whole number of an objective's slices is
        rounded up to whole slices (90s with 1m slices covers 2 slices).

        Raises:
            SlaNotFound: no such SLA.
            SourceUnavailable: Prometheus could not answer.
        """
        sla = self._definitions.get(name)
        now = self._clock.now()
        return [
            self._objective_violations(index, objective, windows, now)
            for index, objective in enumerate(sla.objectives)
        ]

    def _objective_violations(
        self, index: int, objective: Objective, windows: Sequence[int], now: datetime
    ) -> ObjectiveViolations:
        step = objective.slice_seconds
        end = aligned_end(now, step)
        longest = -(-max(windows) // step) * step
        sliced = self.sliced(objective, end - longest, end)
        per_window = []
        for window in windows:
            count = max(1, -(-window // step))
            judged = tuple(
                SeriesWindow(series=key, report=self.report(objective, s[-count:]))
                for key, s in sliced
            )
            per_window.append(
                WindowViolations(
                    window_seconds=count * step,
                    start=at(end - count * step),
                    end=at(end),
                    series=judged,
                )
            )
        return ObjectiveViolations(
            index=index, objective=objective, windows=tuple(per_window)
        )
