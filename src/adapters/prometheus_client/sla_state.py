"""The SLA manager's SLO state as Prometheus gauges, from its last snapshot.

A custom collector: each scrape turns the snapshot the refresh thread last
published into metric families (ADR 0043), so thousands of label sets cost no
registered gauge objects and an SLA deleted since is simply not yielded. Every
sample is a plain gauge without a timestamp: the scrape stamps it now.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitoring_core.durations import format_duration
from monitoring_core.services.sla_state import (
    ObjectiveState,
    PredictedFigures,
    SeriesState,
    StateSnapshot,
    WindowFigures,
)
from monitoring_core.slo import Status

PREFIX = "monitoring_sla_"
SERIES_PREFIX = "monitoring_sla_series_"
"""Per-series families: a name of their own, so a rule on the objective level
never matches a series row by accident."""

WINDOW_FIGURES: tuple[tuple[str, str, Callable[[WindowFigures], float | None]], ...] = (
    ("sli_ratio", "Good / measured slices over the window.", lambda w: w.sli),
    (
        "error_budget_remaining_ratio",
        "Share of the window's error budget left (negative: overspent).",
        lambda w: w.budget_remaining,
    ),
    (
        "burn_rate_ratio",
        "Bad share of measured slices over the window, divided by 1 - target.",
        lambda w: w.burn_rate,
    ),
)
PREDICTED_FIGURES: tuple[
    tuple[str, str, Callable[[PredictedFigures], float | None]], ...
] = (
    (
        "predicted_bad_slice_probability_ratio",
        "Probability of at least one bad slice within the horizon.",
        lambda p: p.bad_slice_probability,
    ),
    (
        "predicted_eta_seconds",
        "Seconds until the first slice by which a bad slice is likely enough.",
        lambda p: p.eta_seconds,
    ),
    (
        "predicted_bad_slices",
        "Expected bad slices within the horizon.",
        lambda p: p.expected_bad_slices,
    ),
)
BAD_SLICES = "Bad slices over the window, by side of the allowed range."
STATUS = "1 for the objective's current status, 0 for the others."


class SnapshotSource(Protocol):
    """Whatever holds the last snapshot (the ``SlaStateService``)."""

    @property
    def snapshot(self) -> StateSnapshot:
        """The last snapshot."""
        ...


class _Families:
    """The families of one scrape, created on first use, in a fixed order."""

    def __init__(self) -> None:
        self.found: dict[str, GaugeMetricFamily] = {}

    def add(
        self, name: str, doc: str, labels: dict[str, str], value: float | None
    ) -> None:
        if value is None:
            return
        family = self.found.get(name)
        if family is None:
            family = GaugeMetricFamily(name, doc, labels=list(labels))
            self.found[name] = family
        family.add_metric(list(labels.values()), value)


def _windows(
    out: _Families,
    prefix: str,
    labels: dict[str, str],
    windows: Iterable[WindowFigures],
) -> None:
    for window in windows:
        at = {**labels, "window": format_duration(window.window_seconds)}
        for name, doc, figure in WINDOW_FIGURES:
            out.add(prefix + name, doc, at, figure(window))
        for side, count in (
            ("above", window.above_slices),
            ("below", window.below_slices),
        ):
            out.add(prefix + "bad_slices", BAD_SLICES, {**at, "side": side}, count)


def _predicted(
    out: _Families,
    prefix: str,
    labels: dict[str, str],
    predicted: PredictedFigures | None,
) -> None:
    if predicted is None:
        return
    at = {**labels, "horizon": format_duration(predicted.horizon_seconds)}
    for name, doc, figure in PREDICTED_FIGURES:
        out.add(prefix + name, doc, at, figure(predicted))


def _status(
    out: _Families, prefix: str, labels: dict[str, str], current: Status
) -> None:
    for status in Status:
        out.add(
            prefix + "status",
            STATUS,
            {**labels, "status": status.value},
            float(status is current),
        )


def _series(out: _Families, labels: dict[str, str], series: SeriesState) -> None:
    at = {**labels, "series": series.series.id}
    _windows(out, SERIES_PREFIX, at, series.windows)
    _predicted(out, SERIES_PREFIX, at, series.predicted)
    _status(out, SERIES_PREFIX, at, series.status)


def _objective(out: _Families, sla: str, objective: ObjectiveState) -> None:
    labels = {"sla": sla, "objective": objective.objective}
    _windows(out, PREFIX, labels, objective.windows)
    _predicted(out, PREFIX, labels, objective.predicted)
    _status(out, PREFIX, labels, objective.status)
    out.add(
        PREFIX + "objective_series",
        "Series the objective's selector matched.",
        labels,
        objective.series_count,
    )
    for series in objective.series:
        _series(out, labels, series)


def snapshot_metrics(snapshot: StateSnapshot) -> list[Metric]:
    """The metric families of one snapshot."""
    out = _Families()
    for sla in snapshot.slas:
        for objective in sla.objectives:
            _objective(out, sla.sla, objective)
    refreshed = snapshot.refreshed_at
    out.add(
        PREFIX + "refresh_timestamp_seconds",
        "Unix time of the last refresh in which every SLA succeeded.",
        {},
        None if refreshed is None else refreshed.timestamp(),
    )
    out.add(
        PREFIX + "refresh_duration_seconds",
        "How long the last refresh took.",
        {},
        snapshot.duration_seconds,
    )
    failures = CounterMetricFamily(
        PREFIX + "refresh_failures",
        "Refreshes in which some SLA could not be judged.",
        value=snapshot.failures,
    )
    return [*out.found.values(), failures]


class SlaStateCollector(Collector):
    """Yields the SLO state's last snapshot at every scrape."""

    def __init__(self, source: SnapshotSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """The families of the current snapshot."""
        yield from snapshot_metrics(self._source.snapshot)

    def describe(self) -> Iterator[Metric]:
        """Nothing: the names depend on the snapshot; no collect at registration."""
        return iter(())
