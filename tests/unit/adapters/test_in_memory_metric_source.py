"""The in-memory metric source passes the MetricSource contract."""

from datetime import UTC, datetime, timedelta

import pytest

from adapters.in_memory.metric_source import InMemoryMetricSource
from monitoring_core.ports import MetricSource
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, SeriesKey, ValueKind
from tests.contracts.metric_source_contract import (
    FamiliesContract,
    MetricSourceContract,
)
from tests.support import dataset, families


class TestInMemoryMetricSource(MetricSourceContract, FamiliesContract):
    @pytest.fixture
    def source(self) -> MetricSource:
        fake = InMemoryMetricSource()
        for key, (kind, samples) in dataset.build().items():
            fake.add(key, samples, kind)
        return fake

    @pytest.fixture
    def family_source(self) -> MetricSource:
        fake = InMemoryMetricSource()
        for key, samples in families.build().items():
            fake.add(key, samples)
        return fake


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
HIST = "rpc_duration_seconds"
SUMM = "gc_duration_seconds"


def _family_source(metadata: dict[str, str]) -> InMemoryMetricSource:
    """A histogram and a summary growing by 3 every 15 s, quantiles at 0.25."""
    fake = InMemoryMetricSource()
    fake.metadata.update(metadata)
    times = [NOW.timestamp() - 15 * i for i in range(240)]
    grow = [(t, 3.0 * (t - times[-1]) / 15) for t in times]
    fake.add(SeriesKey.of(HIST + "_bucket", {"le": "0.5"}), grow)
    fake.add(SeriesKey.of(HIST + "_bucket", {"le": "+Inf"}), grow)
    fake.add(SeriesKey.of(HIST + "_count"), grow)
    fake.add(SeriesKey.of(HIST + "_sum"), grow)
    fake.add(SeriesKey.of(SUMM, {"quantile": "0.5"}), [(t, 0.25) for t in times])
    fake.add(SeriesKey.of(SUMM + "_count"), grow)
    fake.add(SeriesKey.of(SUMM + "_sum"), grow)
    return fake


@pytest.mark.parametrize(
    "metadata", [{}, {HIST: "histogram", SUMM: "summary"}], ids=["names", "metadata"]
)
def test_histograms_and_summaries_are_classified_and_analysed_as_rates(
    metadata: dict[str, str],
) -> None:
    fake = _family_source(metadata)
    found = fake.discover(
        [parse_selector('{__name__=~".+"}')], NOW - timedelta(hours=1), NOW
    )
    kinds = {(i.key.name, i.kind, i.value_kind) for i in found}
    rate = ValueKind.PER_SECOND_RATE
    assert kinds == {
        (HIST + "_bucket", MetricKind.HISTOGRAM, rate),
        (HIST + "_count", MetricKind.HISTOGRAM, rate),
        (HIST + "_sum", MetricKind.HISTOGRAM, rate),
        (SUMM, MetricKind.SUMMARY, ValueKind.VALUE),
        (SUMM + "_count", MetricKind.SUMMARY, rate),
        (SUMM + "_sum", MetricKind.SUMMARY, rate),
    }
    expected = {i.key: 0.25 if i.value_kind is ValueKind.VALUE else 0.2 for i in found}
    stats = fake.window_stats(found, (600,), NOW)
    assert len(stats) == len(found)
    for result in stats:
        (window,) = result.windows
        assert window.min == pytest.approx(expected[result.series])
        assert window.max == pytest.approx(expected[result.series])
    histories = fake.history(found, NOW - timedelta(minutes=10), NOW, 60)
    assert len(histories) == len(found)
    for history in histories:
        assert history.measured() == pytest.approx([expected[history.series]] * 11)


def test_a_declared_kind_is_metadata_for_the_series_name() -> None:
    fake = InMemoryMetricSource()
    fake.add(SeriesKey.of("queue_count"), [(NOW.timestamp(), 4.0)], MetricKind.GAUGE)
    fake.add(SeriesKey.of("batches_count"), [(NOW.timestamp(), 4.0)])
    assert fake.metadata == {"queue_count": "gauge"}
    found = fake.discover([parse_selector('{__name__=~".+"}')], NOW, NOW)
    assert [(i.key.name, i.kind) for i in found] == [
        ("batches_count", MetricKind.COUNTER),
        ("queue_count", MetricKind.GAUGE),
    ]
