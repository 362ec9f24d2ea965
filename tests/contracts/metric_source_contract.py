"""The contract every MetricSource honours, checked on the shared dataset."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitoring_core.ports import MetricSource
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, SeriesInfo, SeriesKey, ValueKind
from tests.support import dataset, families

AT = datetime.fromtimestamp(dataset.AT, UTC)
WINDOWS = (3600, 3 * 3600, 12 * 3600)
DATA = dataset.build()


def _key(name: str, instance: str) -> SeriesKey:
    return SeriesKey.of(name, {"instance": instance, "job": "t"})


def _reference(key: SeriesKey, window: int) -> dict[str, float] | None:
    """numpy's statistics of the raw samples in (AT - window, AT]."""
    samples = np.array(
        [v for t, v in DATA[key][1] if AT.timestamp() - window < t <= AT.timestamp()]
    )
    if samples.size == 0:
        return None
    return {
        "min": samples.min(),
        "max": samples.max(),
        "avg": samples.mean(),
        "stddev": samples.std(ddof=0),
        "last": samples[-1],
        "count": float(samples.size),
    }


class MetricSourceContract:
    """Subclasses provide a ``source`` fixture holding ``dataset.build()``."""

    @pytest.fixture
    def source(self) -> MetricSource:
        raise NotImplementedError("subclasses provide the source under test")

    def _discover(self, source: MetricSource, text: str) -> list[SeriesInfo]:
        start = AT - timedelta(hours=12)
        return source.discover([parse_selector(text)], start, AT)

    def test_discovery_matches_exact_labels_and_kinds(
        self, source: MetricSource
    ) -> None:
        found = self._discover(source, '{__name__=~"test_.*"}')
        assert {i.key for i in found} == set(DATA)
        kinds = {i.key.name: i.kind for i in found}
        assert kinds["test_requests_total"] is MetricKind.COUNTER
        assert kinds["test_gauge"] is MetricKind.GAUGE
        only_a = self._discover(source, 'test_gauge{instance="a"}')
        assert [i.key for i in only_a] == [_key("test_gauge", "a")]

    def test_a_series_matched_twice_is_listed_once(self, source: MetricSource) -> None:
        start = AT - timedelta(hours=12)
        sels = [parse_selector("test_gauge"), parse_selector('{instance="a"}')]
        found = source.discover(sels, start, AT)
        assert len(found) == len({i.key for i in found}) == 5

    def test_window_stats_equal_numpy_on_the_raw_samples(
        self, source: MetricSource
    ) -> None:
        gauges = [
            i
            for i in self._discover(source, '{__name__=~"test_.*"}')
            if i.kind is MetricKind.GAUGE
        ]
        stats = {s.series: s for s in source.window_stats(gauges, WINDOWS, AT)}
        assert set(stats) == {i.key for i in gauges}
        for key, result in stats.items():
            assert result.at == AT
            for window in result.windows:
                ref = _reference(key, window.window_seconds)
                if ref is None:
                    assert window.count == 0 and window.avg is None
                    continue
                assert window.count == ref["count"]
                for stat in ("min", "max", "avg", "stddev", "last"):
                    got = getattr(window, stat)
                    assert got == pytest.approx(ref[stat], rel=1e-9, abs=1e-12), stat

    def test_last_sample_timestamp_is_reported(self, source: MetricSource) -> None:
        gauges = self._discover(source, 'test_gauge{instance="a"}')
        (result,) = source.window_stats(gauges, WINDOWS, AT)
        assert result.windows[0].last_timestamp == pytest.approx(dataset.END)

    def test_counters_are_analysed_as_per_second_rates_across_a_reset(
        self, source: MetricSource
    ) -> None:
        counters = self._discover(source, "test_requests_total")
        (result,) = source.window_stats(counters, WINDOWS, AT)
        assert result.kind is MetricKind.COUNTER
        for window in result.windows:
            assert window.count > 0
            assert window.avg == pytest.approx(dataset.RATE_PER_SECOND, rel=0.05)
            assert window.min is not None and window.min >= 0

    def test_history_is_a_regular_grid_of_the_newest_sample(
        self, source: MetricSource
    ) -> None:
        gauges = self._discover(source, 'test_gauge{instance="b"}')
        end = datetime.fromtimestamp(dataset.END, UTC)
        start = end - timedelta(hours=3)
        (history,) = source.history(gauges, start, end, 60)
        assert history.step_seconds == 60 and history.start == start.timestamp()
        assert len(history.values) == 181
        samples = dict(DATA[_key("test_gauge", "b")][1])
        for t, value in zip(history.timestamps(), history.values, strict=True):
            if t < dataset.END - 2 * 3600:
                assert math.isnan(value)
            else:
                assert value == samples[t]

    def test_histories_of_gauges_and_counters_come_together(
        self, source: MetricSource
    ) -> None:
        found = self._discover(source, '{__name__=~"test_.*"}')
        end = datetime.fromtimestamp(dataset.END, UTC)
        histories = {
            h.series: h
            for h in source.history(found, end - timedelta(hours=1), end, 60)
        }
        assert set(histories) == {i.key for i in found} - {_key("test_gauge", "c")}
        rates = histories[_key("test_requests_total", "a")].measured()
        assert len(rates) == 61
        assert sum(rates) / len(rates) == pytest.approx(
            dataset.RATE_PER_SECOND, rel=0.05
        )
        assert (
            histories[_key("test_other", "a")].values[-1]
            == DATA[_key("test_other", "a")][1][-1][1]
        )

    def test_series_without_data_in_range_are_not_returned(
        self, source: MetricSource
    ) -> None:
        stale = self._discover(source, 'test_gauge{instance="c"}')
        assert stale, "c has samples in the last 12 h"
        recent = source.discover(
            [parse_selector('test_gauge{instance="c"}')], AT - timedelta(hours=1), AT
        )
        assert recent == []


class FamiliesContract:
    """Histograms and summaries without metadata (ADR 0016).

    Subclasses provide a ``family_source`` fixture holding ``families.build()``
    with no declared types.
    """

    @pytest.fixture
    def family_source(self) -> MetricSource:
        raise NotImplementedError("subclasses provide the source under test")

    def _found(self, source: MetricSource) -> list[SeriesInfo]:
        selector = parse_selector('{instance="h"}')
        return source.discover([selector], AT - timedelta(hours=1), AT)

    def test_families_are_classified_by_name_alone(
        self, family_source: MetricSource
    ) -> None:
        found = {i.key: (i.kind, i.value_kind) for i in self._found(family_source)}
        rate, value = ValueKind.PER_SECOND_RATE, ValueKind.VALUE
        assert found == {
            key: (
                MetricKind.HISTOGRAM
                if key.name.startswith(families.HISTOGRAM)
                else MetricKind.SUMMARY,
                value if key in families.QUANTILES else rate,
            )
            for key in families.build()
        }

    def test_cumulative_series_are_steady_rates_and_quantiles_values(
        self, family_source: MetricSource
    ) -> None:
        found = self._found(family_source)
        stats = family_source.window_stats(found, WINDOWS[:1], AT)
        assert {s.series for s in stats} == set(families.build())
        for result in stats:
            (window,) = result.windows
            level = families.expected(result.series)
            for stat in (window.min, window.max, window.avg, window.last):
                assert stat == pytest.approx(level, rel=1e-9), result.series

    def test_histories_are_of_the_rate_or_value(
        self, family_source: MetricSource
    ) -> None:
        end = datetime.fromtimestamp(dataset.END, UTC)
        found = self._found(family_source)
        histories = family_source.history(found, end - timedelta(minutes=30), end, 60)
        assert {h.series for h in histories} == set(families.build())
        for history in histories:
            level = families.expected(history.series)
            assert history.measured() == pytest.approx([level] * 31, rel=1e-9)
