"""Slices summed up by Prometheus (the grid) equal slices summed up from the raw
samples, on a real Prometheus (issue 14, ADR 0046).

A private Prometheus is backfilled with series built to hit the edges: samples
exactly on a slice's start and one millisecond before it, values exactly on a
bound, gaps of whole and partial slices, NaN samples, two metrics with the same
labels and selectors that overlap. Both paths of ``PrometheusSampleSource`` are
compared with each other and with ``slice_stats`` of the generated samples (the
reference, computed without Prometheus), and the slices judged from them with
an allowed range whose bounds some samples sit on.
"""

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.prometheus import sample_source
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from adapters.prometheus.sample_source import PrometheusSampleSource
from monitoring_core.selectors import parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import SlaJudgement
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from monitoring_core.slo import (
    AllowedRange,
    SeriesSliceStats,
    SliceState,
    judge_slices,
    slice_stats,
)
from tests.support.prometheus import backfill, private_prometheus

pytestmark = pytest.mark.timeout(120)

END = 1_795_000_000 // 3600 * 3600  # whole hours, in the past of no clock
HOURS = 3
LO, HI = 20.0, 80.0
Samples = list[tuple[float, float]]


def _series(seed: int, offset: float, nan_every: int = 0) -> Samples:
    """15 s samples over HOURS with gaps, bound values and edge timestamps."""
    rng = random.Random(seed)
    out: Samples = []
    t = END - HOURS * 3600 + offset
    while t < END + 600:
        minute = int(t // 60) % 60
        if not (10 <= minute < 13 or (minute == 30 and t % 60 >= 30)):
            value = rng.choice((LO, HI, LO - 1e-9, HI + 1e-9, rng.uniform(0, 100)))
            if nan_every and len(out) % nan_every == nan_every - 1:
                value = math.nan
            out.append((round(t, 3), value))
        t += 15
    # One millisecond before a slice starts, and exactly at its start.
    edges = [(END - 1800.001, HI + 5), (END - 1800.0, LO - 5)]
    out = [(t, v) for t, v in out if t not in dict(edges)] + edges
    return sorted(out)


def _data() -> dict[SeriesKey, Samples]:
    return {
        SeriesKey.of("edge_value", {"host": "a"}): _series(1, 0.0),
        SeriesKey.of("edge_value", {"host": "b"}): _series(2, 7.25),
        SeriesKey.of("edge_value", {"host": "c"}): _series(3, 0.0, nan_every=97),
        SeriesKey.of("edge_other", {"host": "a"}): _series(4, 3.0),
    }


def _openmetrics(data: dict[SeriesKey, Samples]) -> str:
    lines = []
    for name in sorted({k.name for k in data}):
        lines.append(f"# TYPE {name} gauge")
        for key in (k for k in data if k.name == name):
            labels = ",".join(f'{k}="{v}"' for k, v in key.labels)
            lines += [
                f"{name}{{{labels}}} {'NaN' if math.isnan(v) else repr(v)} {t:.3f}"
                for t, v in data[key]
            ]
    return "\n".join([*lines, "# EOF"]) + "\n"


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("slice-stats") / "data"
    backfill(_openmetrics(_data()), folder)
    with private_prometheus(folder) as url:
        yield url


SELECTORS = [
    'edge_value{host="a"}',
    'edge_value{host="b"}',
    'edge_value{host="c"}',
    "edge_value",
    'edge_other{host="a"}',
    '{__name__=~"edge_.*",host="a"}',
]


def _expected(text: str, start: float, end: float, step: int) -> list[SeriesSliceStats]:
    selector = parse_selector(text)
    out = []
    for key, samples in sorted(_data().items(), key=lambda kv: kv[0].canonical):
        if selector.matches(key.name, key.label_map):
            stats = slice_stats(samples, start, end, step)
            if any(stats):
                out.append(SeriesSliceStats(key=key, stats=stats))
    return out


def _same(found: list[SeriesSliceStats], expected: list[SeriesSliceStats]) -> None:
    """Equal series, counts, minima and maxima; totals to the last bits."""
    assert [s.key for s in found] == [s.key for s in expected]
    for got, want in zip(found, expected, strict=True):
        assert len(got.stats) == len(want.stats)
        for k, (g, w) in enumerate(zip(got.stats, want.stats, strict=True)):
            assert (g is None) == (w is None), (got.key, k)
            if g is not None and w is not None:
                assert (g.samples, g.minimum, g.maximum) == (
                    w.samples,
                    w.minimum,
                    w.maximum,
                ), (got.key, k)
                assert math.isclose(g.total, w.total, rel_tol=1e-12), (got.key, k)


@pytest.mark.parametrize(
    ("step", "start", "end"),
    [
        (60, END - 3600, END),
        (60, END - 3 * 3600, END + 600),  # past the data's start and end
        (300, END - 2 * 3600, END),
        (60, END - 1860, END - 1740),  # two slices around the edge samples
    ],
)
def test_the_grid_and_the_raw_samples_give_the_same_slices(
    prometheus_url: str, step: int, start: float, end: float
) -> None:
    http = PrometheusHttp(prometheus_url, 30)
    grid = PrometheusSampleSource(http, grid_slices=10**6)
    raw = PrometheusSampleSource(http, grid_slices=0)
    selectors = [parse_selector(s) for s in SELECTORS]
    lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    on_grid = grid.slice_stats(selectors, lo, hi, step)
    from_raw = raw.slice_stats(selectors, lo, hi, step)
    kind = AllowedRange(LO, HI)
    for text, g, r in zip(SELECTORS, on_grid, from_raw, strict=True):
        expected = _expected(text, start, end, step)
        assert expected, text
        _same(g, expected)
        _same(r, expected)
        for got, want in zip(g, expected, strict=True):
            assert judge_slices(got.stats, start, step, kind) == judge_slices(
                want.stats, start, step, kind
            )


def test_the_edges_fall_where_the_raw_samples_put_them(prometheus_url: str) -> None:
    """The sample 1 ms before a slice is in the slice before; a value on a
    bound is good, a hair beyond it bad."""
    grid = PrometheusSampleSource(PrometheusHttp(prometheus_url, 30), grid_slices=99)
    key = SeriesKey.of("edge_value", {"host": "a"})
    start = END - 1860
    [[found]] = grid.slice_stats(
        [parse_selector(key.canonical)],
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(END - 1740, UTC),
        60,
    )
    before, after = found.stats
    assert before is not None and after is not None
    assert before.maximum >= HI + 5 and after.minimum <= LO - 5
    kind = AllowedRange(LO, HI)
    slices = judge_slices(found.stats, start, 60, kind)
    assert [s.state for s in slices] == [SliceState.ABOVE, SliceState.BELOW]
    [[hour]] = grid.slice_stats(
        [parse_selector(key.canonical)],
        datetime.fromtimestamp(END - 3600, UTC),
        datetime.fromtimestamp(END, UTC),
        60,
    )
    judged = judge_slices(hour.stats, END - 3600, 60, kind)
    on_a_bound = [
        piece
        for piece, stats in zip(judged, hour.stats, strict=True)
        if stats is not None
        and LO <= stats.minimum <= stats.maximum <= HI
        and (stats.minimum == LO or stats.maximum == HI)
    ]
    assert on_a_bound, "the data has slices whose extreme is exactly a bound"
    assert all(piece.state is SliceState.GOOD for piece in on_a_bound)


def test_refreshes_read_on_the_grid_equal_a_judgement_from_raw_samples(
    prometheus_url: str,
) -> None:
    """SlaJudgement over the real adapters: a judgement that keeps its slices
    and reads each refresh on the grid says what one that keeps nothing and
    reads everything raw says, minute after minute."""
    http = PrometheusHttp(prometheus_url, 30)
    clock = FixedClock(datetime.fromtimestamp(END - 1800 + 30, UTC))
    definitions = SlaDefinitions(
        InMemorySlaRepository(clock), PrometheusMetricSource(http), clock
    )
    objectives = (
        ObjectiveDraft(selector="edge_value", lo=LO, hi=HI, target=0.99, window="3h"),
        ObjectiveDraft(selector='edge_value{host="a"}', hi=HI, target=0.9, window="1h"),
        ObjectiveDraft(
            selector='edge_other{host="a"}', lo=LO, target=0.9, window="1h", slice="5m"
        ),
    )
    definitions.apply(SlaDraft(name="edges", objectives=objectives))
    kept = SlaJudgement(definitions, PrometheusSampleSource(http), clock)
    raw = PrometheusSampleSource(http, grid_slices=0)
    windows = (600, 3600, 2 * 3600)
    reads: list[str] = []
    http.recorded = []
    for _ in range(12):
        refreshed = kept.violations("edges", windows)
        reads += [form["query"][:40] for _, form in http.recorded]
        http.recorded = []
        fresh = SlaJudgement(definitions, raw, clock).violations("edges", windows)
        http.recorded = []
        assert refreshed == fresh, clock.now()
        clock.advance(60)
    assert sum("min_over_time" in q for q in reads) >= 11  # refreshes on the grid


def test_selectors_spread_over_several_grid_queries_keep_their_answers(
    prometheus_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sample_source, "GRID_CHUNK", 2)
    http = PrometheusHttp(prometheus_url, 30)
    http.recorded = []
    selectors = [parse_selector(s) for s in SELECTORS]
    start, end = END - 1200, END
    lo, hi = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    grid = PrometheusSampleSource(http).slice_stats(selectors, lo, hi, 60)
    assert sum(path == "query_range" for path, _ in http.recorded) >= 2
    for text, found in zip(SELECTORS, grid, strict=True):
        _same(found, _expected(text, start, end, 60))
