"""The SLA manager's judgement: each objective's series sliced and judged."""

import math
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime

import attrs

from monitoring_core.ports import Clock, SampleSource
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.slice_cache import (
    DEFAULT_SETTLE_SECONDS,
    Settled,
    SliceCache,
    measured,
)
from monitoring_core.sla import Objective
from monitoring_core.slo import (
    ObjectiveKind,
    SeriesSliceStats,
    Slice,
    WindowReport,
    evaluate_window,
    judge_slices,
)

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


Sliced = list[tuple[SeriesKey, tuple[Slice, ...]]]
"""Every series of an objective with its slices, by canonical key."""


@attrs.frozen
class _Ask:
    """One objective's range, what the cache holds of it and what to read."""

    objective: Objective
    start: float
    end: float
    cached: Settled | None
    read_from: float

    @property
    def key(self) -> Hashable:
        # What a slice's judgement depends on (the kind is a frozen attrs class).
        o = self.objective
        return (o.selector, o.slice_seconds, o.kind)

    @property
    def group(self) -> tuple[int, float, float]:
        return (self.objective.slice_seconds, self.read_from, self.end)


class SlaJudgement:
    """Judges the series of SLA objectives over past windows, slice by slice.

    Judged slices are kept between calls once settled (``monitoring_core.
    services.slice_cache``): a refresh reads only the slices after the kept
    ones, for every objective with the same slice length in one call of the
    sample source.

    Args:
        definitions: where the SLAs are found.
        samples: raw samples (or what each slice adds up to) for the past.
        clock: the current time.
        coverage_floor: below this share of measured slices, a series is
            ``insufficient_data`` rather than green.
        settle_seconds: a slice that ended longer ago than this is final: its
            judgement is kept and its samples are not read again.
        cache: where settled slices are kept (None: a new one).
    """

    def __init__(
        self,
        definitions: SlaDefinitions,
        samples: SampleSource,
        clock: Clock,
        coverage_floor: float = 0.9,
        settle_seconds: int = DEFAULT_SETTLE_SECONDS,
        cache: SliceCache | None = None,
    ) -> None:
        self._definitions = definitions
        self._samples = samples
        self._clock = clock
        self._coverage_floor = coverage_floor
        self._settle = settle_seconds
        self._cache = SliceCache() if cache is None else cache

    def sliced(self, objective: Objective, start: float, end: float) -> Sliced:
        """Every series the objective selects in ``[start, end)``, sliced and judged.

        Args:
            objective: whose selector, slice length and kind are used.
            start, end: whole slices apart (Unix time).

        Returns:
            ``(series, slices)`` by series key, every series with a sample in
            the range.

        Raises:
            SourceUnavailable: Prometheus could not answer.
        """
        [found] = self.sliced_all([(objective, start, end)])
        return found

    def sliced_all(
        self, asked: Sequence[tuple[Objective, float, float]]
    ) -> list[Sliced]:
        """:meth:`sliced` for several objectives, reading them together.

        Slices kept from earlier calls are not read again; the rest is read
        with one call of the sample source per slice length and range.
        """
        settled_at = self._clock.now().timestamp() - self._settle
        asks = [self._ask(o, start, end) for o, start, end in asked]
        read: dict[tuple[int, float, float], list[_Ask]] = {}
        for ask in asks:
            if ask.read_from < ask.end:
                read.setdefault(ask.group, []).append(ask)
        fresh: dict[int, list[SeriesSliceStats]] = {}
        for (step, lo, hi), group in read.items():
            answers = self._samples.slice_stats(
                [a.objective.selector for a in group], at(lo), at(hi), step
            )
            fresh.update(zip((id(a) for a in group), answers, strict=True))
        return [self._assemble(a, fresh.get(id(a), []), settled_at) for a in asks]

    def _ask(self, objective: Objective, start: float, end: float) -> _Ask:
        ask = _Ask(objective, start, end, None, start)
        kept = self._cache.get(ask.key)
        if kept is None or not kept.start <= start <= kept.end:
            return ask
        return attrs.evolve(ask, cached=kept, read_from=min(kept.end, end))

    def _assemble(
        self, ask: _Ask, fresh: Sequence[SeriesSliceStats], settled_at: float
    ) -> Sliced:
        objective, step = ask.objective, ask.objective.slice_seconds
        kind = objective.kind
        first = ask.cached.start if ask.cached is not None else ask.start
        old = ask.cached.between(first, ask.read_from) if ask.cached else {}
        new = {s.key: judge_slices(s.stats, ask.read_from, step, kind) for s in fresh}
        skip = round((ask.start - first) / step)
        whole: dict[SeriesKey, Sequence[Slice]] = {}
        out: Sliced = []
        for key in sorted(old.keys() | new.keys(), key=_canonical):
            before = old.get(key) or _unmeasured(first, ask.read_from, step, kind)
            after = new.get(key) or _unmeasured(ask.read_from, ask.end, step, kind)
            slices = (*before, *after)
            whole[key] = slices
            asked = slices[skip:]
            if measured(asked):
                out.append((key, asked))
        self._keep(ask, first, whole, settled_at)
        return out

    def _keep(
        self,
        ask: _Ask,
        first: float,
        whole: dict[SeriesKey, Sequence[Slice]],
        settled_at: float,
    ) -> None:
        step = ask.objective.slice_seconds
        settled = min(ask.end, math.floor(settled_at / step) * step)
        if settled <= first:
            return
        count = round((settled - first) / step)
        span = ask.end - ask.start
        if ask.cached is not None:
            span = max(span, ask.cached.span)
        self._cache.put(
            ask.key,
            Settled(
                start=first,
                end=settled,
                slice_seconds=step,
                series={key: s[:count] for key, s in whole.items()},
                span=span,
            ),
        )

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
        asked = []
        for objective in sla.objectives:
            step = objective.slice_seconds
            end = aligned_end(now, step)
            asked.append((objective, end - -(-max(windows) // step) * step, end))
        return [
            self._objective_violations(index, objective, windows, now, sliced)
            for (index, objective), sliced in zip(
                enumerate(sla.objectives), self.sliced_all(asked), strict=True
            )
        ]

    def _objective_violations(
        self,
        index: int,
        objective: Objective,
        windows: Sequence[int],
        now: datetime,
        sliced: Sliced,
    ) -> ObjectiveViolations:
        step = objective.slice_seconds
        end = aligned_end(now, step)
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


def _canonical(key: SeriesKey) -> str:
    return key.canonical


def _unmeasured(
    start: float, end: float, step: int, kind: ObjectiveKind
) -> tuple[Slice, ...]:
    return judge_slices([None] * round((end - start) / step), start, step, kind)
