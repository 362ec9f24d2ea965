"""Issue #5, criterion 2: violations over 1h/3h/12h equal a recount of raw samples.

A private Prometheus is backfilled with the series of ``tests.support.sla_dataset``,
which leave their range at known times. The SLA manager judges them through the
real Prometheus adapters at a fixed clock time; its figures are compared with
``tests.support.slo_recount``, which recounts them from the generated samples
without ``monitoring_core.slo``, and with facts read off how the data was built.
"""

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from adapters.prometheus.sample_source import PrometheusSampleSource
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_judgement import ObjectiveViolations
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from monitoring_core.slo import Episode, WindowReport
from tests.support import sla_dataset, slo_recount
from tests.support.prometheus import backfill, private_prometheus
from tests.support.sla_dataset import E1, E5, G, at, conn, lag
from tests.support.sla_services import sla_services

pytestmark = pytest.mark.timeout(120)

HOUR = 3600
WINDOWS = (HOUR, 3 * HOUR, 12 * HOUR)
CLUSTER = {"cluster": "db-1"}
# (metric, exact labels, lo, hi, target, slice seconds)
SPECS = (
    ("db_connections", CLUSTER, 10.0, 50.0, 0.99, 60),
    ("db_replication_lag_seconds", CLUSTER, None, 30.0, 0.995, 60),
    ("db_connections", CLUSTER, 10.0, 50.0, 0.95, 300),
)
CONN_1M, LAG_1M, CONN_5M = range(3)
Data = dict[SeriesKey, sla_dataset.Samples]


def _selector(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _draft() -> SlaDraft:
    windows = ("12h", "3h", "12h")
    return SlaDraft(
        name="db-fleet",
        objectives=tuple(
            ObjectiveDraft(
                selector=_selector(name, labels),
                lo=lo,
                hi=hi,
                target=target,
                window=window,
                slice=f"{slice_ // 60}m",
            )
            for (name, labels, lo, hi, target, slice_), window in zip(
                SPECS, windows, strict=True
            )
        ),
    )


@pytest.fixture(scope="module")
def data() -> Data:
    return sla_dataset.build()


@pytest.fixture(scope="module")
def prometheus_url(
    tmp_path_factory: pytest.TempPathFactory, data: Data
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("sla-prometheus") / "data"
    backfill(sla_dataset.to_openmetrics(data), folder)
    with private_prometheus(folder) as url:
        yield url


@pytest.fixture(scope="module")
def violations(prometheus_url: str) -> list[ObjectiveViolations]:
    http = PrometheusHttp(prometheus_url, 30)
    clock = FixedClock(sla_dataset.NOW)
    manager = sla_services(
        repository=InMemorySlaRepository(clock),
        source=PrometheusMetricSource(http),
        samples=PrometheusSampleSource(http),
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    manager.definitions.apply(_draft())
    return manager.judgement.violations("db-fleet", WINDOWS)


# -- the independent side -------------------------------------------------


def _selected(data: Data, index: int) -> list[SeriesKey]:
    """The series an objective selects: same name, every label exactly equal."""
    name, labels = SPECS[index][:2]
    return [
        key
        for key in data
        if key.name == name
        and all(key.label_map.get(k) == v for k, v in labels.items())
    ]


def _has_sample(samples: sla_dataset.Samples, start: int, end: int) -> bool:
    return any(start <= t < end and not math.isnan(v) for t, v in samples)


def _expected_series(data: Data, index: int) -> set[SeriesKey]:
    """SlaJudgement.violations: "all series the selector matched with a sample in
    the longest window are reported" (its docstring), in every window."""
    end = slo_recount.aligned_end(sla_dataset.NOW_MS, SPECS[index][5])
    start = end - max(WINDOWS) * 1000
    return {k for k in _selected(data, index) if _has_sample(data[k], start, end)}


def _recount(data: Data, index: int, window: int, key: SeriesKey) -> dict[str, Any]:
    _, _, lo, hi, target, slice_ = SPECS[index]
    return slo_recount.window(
        data[key],
        lo=lo,
        hi=hi,
        target=target,
        slice_seconds=slice_,
        end=slo_recount.aligned_end(sla_dataset.NOW_MS, slice_),
        window_seconds=window,
    )


# -- the manager's side ---------------------------------------------------


def _episode(e: Episode) -> dict[str, Any]:
    return {
        "side": e.side.value,
        "start": e.start,
        "end": e.end,
        "duration_seconds": e.duration_seconds,
        "open": e.open,
        "bad_slices": e.bad_slices,
        "unmeasured_slices": e.unmeasured_slices,
        "worst_value": e.worst_value,
        "worst_distance": e.worst_distance,
    }


def _figures(r: WindowReport) -> dict[str, Any]:
    names = [
        *("start", "end", "total_slices", "good_slices", "above_slices"),
        *("below_slices", "unmeasured_slices", "excursions", "coverage", "sli"),
        *("gap", "budget_slices", "budget_minutes", "budget_remaining"),
        *("budget_remaining_minutes", "burn_rate", "breached", "insufficient_data"),
    ]
    figures = {name: getattr(r, name) for name in names}
    figures["episodes"] = [_episode(e) for e in r.episodes]
    return figures


def _approx(value: Any) -> Any:
    """Floats compared with a tolerance, everything else exactly."""
    if isinstance(value, dict):
        return {k: _approx(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_approx(v) for v in value]
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12, abs=1e-9)
    return value


def _reports(
    violations: list[ObjectiveViolations], index: int, window: int
) -> dict[SeriesKey, WindowReport]:
    found = next(w for w in violations[index].windows if w.window_seconds == window)
    return {s.series: s.report for s in found.series}


def _report(
    violations: list[ObjectiveViolations], index: int, window: int, key: SeriesKey
) -> WindowReport:
    return _reports(violations, index, window)[key]


def _ts(ms: int) -> float:
    return ms / 1000


# -- recount equality -----------------------------------------------------


def test_every_window_ends_at_the_last_complete_slice(
    violations: list[ObjectiveViolations],
) -> None:
    assert [v.index for v in violations] == [0, 1, 2]
    for v, spec in zip(violations, SPECS, strict=True):
        end = slo_recount.aligned_end(sla_dataset.NOW_MS, spec[5])
        assert [w.window_seconds for w in v.windows] == list(WINDOWS)
        for w in v.windows:
            assert w.end == datetime.fromtimestamp(_ts(end), UTC)
            assert w.start == datetime.fromtimestamp(_ts(end) - w.window_seconds, UTC)
    assert _ts(E1) == datetime(2025, 6, 2, 12, 3, tzinfo=UTC).timestamp()
    assert violations[CONN_5M].windows[0].end == datetime(2025, 6, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("index", [CONN_1M, LAG_1M, CONN_5M])
def test_every_reported_figure_equals_the_recount_from_raw_samples(
    violations: list[ObjectiveViolations], data: Data, index: int, window: int
) -> None:
    reports = _reports(violations, index, window)
    end = slo_recount.aligned_end(sla_dataset.NOW_MS, SPECS[index][5])
    sampled = {
        k
        for k in _selected(data, index)
        if _has_sample(data[k], end - window * 1000, end)
    }
    assert sampled <= set(reports) <= _expected_series(data, index)
    for key, report in reports.items():
        expected = _recount(data, index, window, key)
        assert _figures(report) == _approx(expected), key.canonical
        assert report.slice_seconds == SPECS[index][5]
        assert report.target == SPECS[index][4]


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("index", [CONN_1M, LAG_1M, CONN_5M])
def test_exact_matchers_never_select_a_label_value_that_merely_starts_alike(
    violations: list[ObjectiveViolations], data: Data, index: int, window: int
) -> None:
    reported = set(_reports(violations, index, window))
    assert reported <= set(_selected(data, index))
    assert conn("db-10", "a") not in reported
    assert lag("db-10", "a") not in reported
    assert {k.label_map["instance"] for k in reported} >= {"a", "b"}


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("index", [CONN_1M, LAG_1M, CONN_5M])
def test_a_series_silent_in_a_shorter_window_is_still_reported_in_it(
    violations: list[ObjectiveViolations], data: Data, index: int, window: int
) -> None:
    # db_connections{instance="c"} stopped 5 h ago: per SlaJudgement.violations'
    # docstring it belongs in every window, unmeasured (insufficient data) in 1h/3h.
    reported = _reports(violations, index, window)
    assert set(reported) == _expected_series(data, index)
    for key, report in reported.items():
        assert _figures(report) == _approx(_recount(data, index, window, key))


# -- facts from how the data was built ------------------------------------


def test_seven_slices_below_lo_are_one_420_second_episode_in_the_last_hour(
    violations: list[ObjectiveViolations],
) -> None:
    report = _report(violations, CONN_1M, HOUR, conn("db-1", "a"))
    below = [e for e in report.episodes if e.side.value == "below"]
    assert len(below) == 1
    (episode,) = below
    assert (episode.start, episode.end) == (_ts(at(-30)), _ts(at(-23)))
    assert episode.duration_seconds == 420
    assert (episode.bad_slices, episode.unmeasured_slices) == (7, 0)
    assert (episode.worst_value, episode.worst_distance) == (3.25, 6.75)
    assert not episode.open


def test_spikes_inside_one_slice_are_one_minute_episodes_and_bounds_are_good(
    violations: list[ObjectiveViolations],
) -> None:
    report = _report(violations, CONN_1M, HOUR, conn("db-1", "a"))
    above = [
        (e.start, e.duration_seconds, e.worst_value, e.open)
        for e in report.episodes
        if e.side.value == "above"
    ]
    # Exactly 50 and exactly 10 at -40 are good; 70 right on E5 is in slice -3.
    assert above == [
        (_ts(at(-50)), 60, 57.0, False),
        (_ts(at(-44)), 60, 61.0, False),
        (_ts(at(-3)), 60, 70.0, False),
    ]
    # -12 holds only NaN samples: unmeasured, outside the SLI's denominator.
    assert (report.above_slices, report.below_slices) == (3, 7)
    assert (report.unmeasured_slices, report.good_slices) == (1, 49)
    assert report.sli == pytest.approx(49 / 59)
    assert report.burn_rate == pytest.approx(10 / 59 / 0.01)
    assert report.budget_remaining == pytest.approx(1 - 10 / (0.01 * 59))
    assert report.breached


def test_five_minute_slices_merge_the_spikes_and_drop_the_sample_on_their_end(
    violations: list[ObjectiveViolations],
) -> None:
    report = _report(violations, CONN_5M, HOUR, conn("db-1", "a"))
    assert (report.start, report.end, report.total_slices) == (
        _ts(E5 - HOUR * 1000),
        _ts(E5),
        12,
    )
    assert [
        (e.side.value, e.start, e.duration_seconds, e.worst_value)
        for e in report.episodes
    ] == [
        ("above", _ts(at(-53)), 600, 61.0),
        ("below", _ts(at(-33)), 600, 3.25),
    ]
    assert (report.bad_slices, report.unmeasured_slices) == (4, 0)


def test_a_gap_between_same_side_slices_is_bridged_and_a_trailing_one_stays_open(
    violations: list[ObjectiveViolations],
) -> None:
    one = _report(violations, CONN_1M, HOUR, conn("db-1", "b"))
    assert [
        (e.side.value, e.start, e.end, e.bad_slices, e.unmeasured_slices, e.open)
        for e in one.episodes
    ] == [
        ("above", _ts(G - 60_000), _ts(G + 360_000), 2, 5, False),
        ("below", _ts(at(-20)), _ts(at(-19)), 1, 0, False),
        ("below", _ts(at(-6)), _ts(at(-3)), 3, 0, True),
    ]
    assert one.episodes[0].worst_value == 64.0
    assert (one.unmeasured_slices, one.measured_slices) == (11, 49)
    five = _report(violations, CONN_5M, HOUR, conn("db-1", "b"))
    assert [
        (e.side.value, e.start, e.end, e.unmeasured_slices, e.open)
        for e in five.episodes
    ] == [
        ("above", _ts(G - 300_000), _ts(G + 600_000), 1, False),
        ("below", _ts(at(-23)), _ts(at(-18)), 0, False),
        ("below", _ts(E5 - 300_000), _ts(E5), 0, True),
    ]


def test_an_excursion_still_going_on_is_an_open_episode(
    violations: list[ObjectiveViolations],
) -> None:
    report = _report(violations, LAG_1M, HOUR, lag("db-1", "b"))
    (episode,) = report.episodes
    assert episode.open
    assert (episode.start, episode.end) == (_ts(at(-8)), _ts(E1))
    # 47 and 47.5 were sampled after E1, in the incomplete slice.
    assert (episode.worst_value, episode.worst_distance) == (46.5, 16.5)


def test_a_series_that_touches_its_one_sided_bound_never_violates(
    violations: list[ObjectiveViolations],
) -> None:
    for window in WINDOWS:
        report = _report(violations, LAG_1M, window, lag("db-1", "a"))
        assert report.episodes == ()
        assert (report.excursions, report.unmeasured_slices) == (0, 0)
        assert (report.sli, report.burn_rate, report.budget_remaining) == (1, 0, 1)


def test_other_sides_and_mixed_slices_in_the_three_hour_window(
    violations: list[ObjectiveViolations],
) -> None:
    report = _report(violations, CONN_1M, 3 * HOUR, conn("db-1", "a"))
    older = [
        (e.side.value, e.start, e.bad_slices, e.worst_value, e.open)
        for e in report.episodes
        if e.start < _ts(at(-60))
    ]
    assert older == [
        ("above", _ts(at(-150)), 3, 56.0, False),
        ("below", _ts(at(-147)), 2, 6.0, False),
        ("above", _ts(at(-130)), 1, 58.0, False),  # 8 above hi beats 5 below lo
        ("above", _ts(at(-128)), 1, 55.0, False),  # a tie goes above
        ("below", _ts(at(-126)), 1, 3.0, False),  # 7 below lo beats 2 above hi
    ]


def test_the_twelve_hour_window_keeps_its_edges(
    violations: list[ObjectiveViolations],
) -> None:
    report = _report(violations, CONN_1M, 12 * HOUR, conn("db-1", "b"))
    # 99 was sampled 1 ms before the window, 2.0 right on its start.
    first = report.episodes[0]
    assert (first.side.value, first.start, first.worst_value) == (
        "below",
        _ts(at(-720)),
        2.0,
    )
    stopped = _report(violations, CONN_1M, 12 * HOUR, conn("db-1", "c"))
    assert stopped.coverage == pytest.approx(420 / 720)
    assert stopped.insufficient_data
    assert [(e.start, e.bad_slices) for e in stopped.episodes] == [(_ts(at(-600)), 3)]
