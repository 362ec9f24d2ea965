"""The contract every SampleSource honours, on the shared ``tests.support.dataset``.

The expected samples are read from the dataset's own definition (what was
scraped, or backfilled into Prometheus), never from an adapter's answer.
"""

import math
from datetime import UTC, datetime

import pytest

from monitoring_core.ports import SampleSource
from monitoring_core.selectors import parse_selector
from monitoring_core.series import SeriesKey
from monitoring_core.slo import slice_stats
from tests.support import dataset

GAUGE_A = SeriesKey.of("test_gauge", {"instance": "a", "job": "t"})
COUNTER = SeriesKey.of("test_requests_total", {"instance": "a", "job": "t"})


def at(unix: float) -> datetime:
    """A Unix time as an aware datetime."""
    return datetime.fromtimestamp(unix, UTC)


def expected(key: SeriesKey, lo: float, hi: float) -> tuple[tuple[float, float], ...]:
    """The dataset's samples of ``key`` in ``[lo, hi)``."""
    _, samples = dataset.build()[key]
    return tuple((t, v) for t, v in samples if lo <= t < hi)


class SampleSourceContract:
    """Subclasses provide a ``sample_source`` fixture holding ``dataset.build()``."""

    @pytest.fixture
    def sample_source(self) -> SampleSource:
        raise NotImplementedError

    def test_one_series_gives_its_raw_samples_in_the_range(
        self, sample_source: SampleSource
    ) -> None:
        lo, hi = dataset.END - 3600 + 7, dataset.END - 1800 + 7
        [found] = sample_source.samples(
            parse_selector(GAUGE_A.canonical), at(lo), at(hi)
        )
        assert found.key == GAUGE_A
        assert found.samples == expected(GAUGE_A, lo, hi)
        assert len(found.samples) == 1800 // dataset.SCRAPE

    def test_the_range_holds_its_start_but_not_its_end(
        self, sample_source: SampleSource
    ) -> None:
        # Both edges sit exactly on scrape times.
        lo, hi = dataset.END - 600, dataset.END - 300
        [found] = sample_source.samples(
            parse_selector(GAUGE_A.canonical), at(lo), at(hi)
        )
        times = [t for t, _ in found.samples]
        assert times[0] == lo
        assert times[-1] == hi - dataset.SCRAPE
        assert len(times) == 300 // dataset.SCRAPE

    def test_a_selector_gives_every_matching_series_with_samples_in_order(
        self, sample_source: SampleSource
    ) -> None:
        # Instance "c" stopped four hours before the end: it has no sample here.
        lo, hi = dataset.END - 3600, dataset.END + 1
        found = sample_source.samples(parse_selector("test_gauge"), at(lo), at(hi))
        keys = [s.key for s in found]
        matching = [k for k in dataset.build() if k.name == "test_gauge"]
        with_samples = [k for k in matching if expected(k, lo, hi)]
        assert keys == sorted(with_samples, key=lambda k: k.canonical)
        assert len(keys) == 2
        for series in found:
            assert series.samples == expected(series.key, lo, hi)

    def test_a_counter_gives_its_raw_values_reset_included(
        self, sample_source: SampleSource
    ) -> None:
        lo, hi = dataset.END - 45 * 60, dataset.END - 15 * 60
        [found] = sample_source.samples(
            parse_selector(COUNTER.canonical), at(lo), at(hi)
        )
        assert found.samples == expected(COUNTER, lo, hi)
        values = [v for _, v in found.samples]
        drops = [i for i in range(1, len(values)) if values[i] < values[i - 1]]
        assert len(drops) == 1  # the reset, 30 minutes before the end

    def test_no_match_an_empty_range_and_a_range_before_the_data_give_nothing(
        self, sample_source: SampleSource
    ) -> None:
        lo, hi = at(dataset.END - 600), at(dataset.END)
        assert sample_source.samples(parse_selector("test_absent"), lo, hi) == []
        assert sample_source.samples(parse_selector("test_gauge"), hi, hi) == []
        first = dataset.END - dataset.HOURS * 3600
        early, late = at(first - 7200), at(first - 3600)
        assert sample_source.samples(parse_selector("test_gauge"), early, late) == []

    @pytest.mark.parametrize("slices", [10, 120])
    def test_slice_stats_sum_up_each_selectors_raw_samples(
        self, sample_source: SampleSource, slices: int
    ) -> None:
        # 10 slices: what a refresh reads; 120: a long range (ADR 0046).
        hi = dataset.END // 300 * 300
        lo = hi - slices * 60
        texts = ["test_gauge", GAUGE_A.canonical, COUNTER.canonical]
        found = sample_source.slice_stats(
            [parse_selector(t) for t in texts], at(lo), at(hi), 60
        )
        for text, answer in zip(texts, found, strict=True):
            selector = parse_selector(text)
            keys = sorted(
                (
                    k
                    for k in dataset.build()
                    if selector.matches(k.name, k.label_map) and expected(k, lo, hi)
                ),
                key=lambda k: k.canonical,
            )
            assert [s.key for s in answer] == keys, text
            for series in answer:
                want = slice_stats(expected(series.key, lo, hi), lo, hi, 60)
                assert len(series.stats) == slices
                for got, wanted in zip(series.stats, want, strict=True):
                    assert (got is None) == (wanted is None)
                    if got is not None and wanted is not None:
                        assert got.samples == wanted.samples
                        assert (got.minimum, got.maximum) == (
                            wanted.minimum,
                            wanted.maximum,
                        )
                        assert math.isclose(got.total, wanted.total, rel_tol=1e-12)
