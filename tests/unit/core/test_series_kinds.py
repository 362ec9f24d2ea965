"""Series kinds: metadata first, Prometheus' naming conventions second (ADR 0016)."""

import pytest

from monitoring_core.kinds import Siblings, classify, classify_all
from monitoring_core.series import MetricKind, SeriesInfo, SeriesKey, ValueKind

NO_SIBLINGS = Siblings.of([])
HIST = "http_request_duration_seconds"
SUMM = "go_gc_duration_seconds"


def _kind(
    name: str,
    labels: dict[str, str] | None = None,
    declared: dict[str, str] | None = None,
    siblings: Siblings = NO_SIBLINGS,
) -> MetricKind:
    return classify(SeriesKey.of(name, labels), declared or {}, siblings)


@pytest.mark.parametrize(
    ("declared", "kind"),
    [
        ("counter", MetricKind.COUNTER),
        ("gauge", MetricKind.GAUGE),
        ("histogram", MetricKind.HISTOGRAM),
        ("summary", MetricKind.SUMMARY),
        ("gaugehistogram", MetricKind.GAUGE),
        ("info", MetricKind.GAUGE),
        ("stateset", MetricKind.GAUGE),
    ],
)
def test_a_type_declared_for_the_series_name_decides(
    declared: str, kind: MetricKind
) -> None:
    assert _kind("up_things", declared={"up_things": declared}) is kind


def test_a_declared_gauge_wins_over_a_cumulative_looking_name() -> None:
    assert _kind("queue_count", declared={"queue_count": "gauge"}) is MetricKind.GAUGE


@pytest.mark.parametrize("suffix", ["_bucket", "_count", "_sum"])
def test_every_series_of_a_declared_histogram_family_is_a_histogram(
    suffix: str,
) -> None:
    labels = {"le": "0.1"} if suffix == "_bucket" else {}
    kind = _kind(HIST + suffix, labels, declared={HIST: "histogram"})
    assert kind is MetricKind.HISTOGRAM


@pytest.mark.parametrize("suffix", ["_count", "_sum"])
def test_count_and_sum_of_a_declared_summary_family_are_summaries(
    suffix: str,
) -> None:
    assert _kind(SUMM + suffix, declared={SUMM: "summary"}) is MetricKind.SUMMARY


def test_a_declared_summary_quantile_series_is_a_summary_of_values() -> None:
    key = SeriesKey.of(SUMM, {"quantile": "0.5"})
    kind = classify(key, {SUMM: "summary"}, NO_SIBLINGS)
    assert kind is MetricKind.SUMMARY
    assert SeriesInfo(key, kind).value_kind is ValueKind.VALUE


def test_a_counter_family_declared_without_its_total_suffix() -> None:
    assert _kind("jobs_total", declared={"jobs": "counter"}) is MetricKind.COUNTER


def test_a_gauge_histogram_bucket_is_a_gauge() -> None:
    kind = _kind("queue_size_bucket", {"le": "5"}, {"queue_size": "gaugehistogram"})
    assert kind is MetricKind.GAUGE


def test_untyped_metadata_falls_back_to_names() -> None:
    assert _kind("jobs_total", declared={"jobs_total": "unknown"}) is (
        MetricKind.COUNTER
    )
    assert _kind("temperature", declared={"temperature": "unknown"}) is (
        MetricKind.GAUGE
    )


def test_without_metadata_total_means_counter_and_anything_else_gauge() -> None:
    assert _kind("jobs_total") is MetricKind.COUNTER
    assert _kind("node_load1") is MetricKind.GAUGE


def test_without_metadata_a_bucket_with_le_is_a_histogram() -> None:
    assert _kind(HIST + "_bucket", {"le": "+Inf"}) is MetricKind.HISTOGRAM
    assert _kind("water_bucket", {"colour": "red"}) is MetricKind.GAUGE


def test_without_metadata_count_and_sum_follow_their_siblings() -> None:
    histogram = Siblings.of([SeriesKey.of(HIST + "_bucket", {"le": "1"})])
    summary = Siblings.of([SeriesKey.of(SUMM, {"quantile": "0.9"})])
    for suffix in ("_count", "_sum"):
        assert _kind(HIST + suffix, siblings=histogram) is MetricKind.HISTOGRAM
        assert _kind(SUMM + suffix, siblings=summary) is MetricKind.SUMMARY


def test_without_metadata_a_lone_count_or_sum_is_still_cumulative() -> None:
    for name in ("batch_sizes_count", "batch_sizes_sum"):
        key = SeriesKey.of(name)
        kind = classify(key, {}, NO_SIBLINGS)
        assert kind is MetricKind.COUNTER
        assert SeriesInfo(key, kind).value_kind is ValueKind.PER_SECOND_RATE


def test_without_metadata_a_quantile_series_is_a_summary_only_beside_its_count() -> (
    None
):
    quantile = {"quantile": "0.99"}
    beside = Siblings.of([SeriesKey.of(SUMM + "_count")])
    assert _kind(SUMM, quantile, siblings=beside) is MetricKind.SUMMARY
    assert _kind(SUMM, quantile) is MetricKind.GAUGE


@pytest.mark.parametrize(
    ("name", "labels", "kind", "value_kind"),
    [
        ("node_load1", {}, MetricKind.GAUGE, ValueKind.VALUE),
        ("jobs_total", {}, MetricKind.COUNTER, ValueKind.PER_SECOND_RATE),
        (
            HIST + "_bucket",
            {"le": "1"},
            MetricKind.HISTOGRAM,
            ValueKind.PER_SECOND_RATE,
        ),
        (HIST + "_count", {}, MetricKind.HISTOGRAM, ValueKind.PER_SECOND_RATE),
        (HIST + "_sum", {}, MetricKind.HISTOGRAM, ValueKind.PER_SECOND_RATE),
        (HIST, {}, MetricKind.HISTOGRAM, ValueKind.PER_SECOND_RATE),  # native
        (SUMM + "_count", {}, MetricKind.SUMMARY, ValueKind.PER_SECOND_RATE),
        (SUMM + "_sum", {}, MetricKind.SUMMARY, ValueKind.PER_SECOND_RATE),
        (SUMM, {"quantile": "0.5"}, MetricKind.SUMMARY, ValueKind.VALUE),
    ],
)
def test_cumulative_series_are_analysed_as_rates_and_the_rest_as_values(
    name: str, labels: dict[str, str], kind: MetricKind, value_kind: ValueKind
) -> None:
    assert SeriesInfo(SeriesKey.of(name, labels), kind).value_kind is value_kind


def test_the_existing_enum_values_are_unchanged() -> None:
    assert MetricKind.GAUGE.value == "gauge" and MetricKind.COUNTER.value == "counter"
    assert {v.value for v in ValueKind} == {"value", "per_second_rate"}


def test_classify_all_keeps_order_and_uses_every_series_as_sibling() -> None:
    keys = [
        SeriesKey.of(SUMM, {"quantile": "0.5"}),
        SeriesKey.of(SUMM + "_sum"),
        SeriesKey.of(HIST + "_count"),
        SeriesKey.of(HIST + "_bucket", {"le": "1"}),
        SeriesKey.of("node_load1"),
    ]
    found = classify_all(keys, {})
    assert [i.key for i in found] == keys
    assert [i.kind for i in found] == [
        MetricKind.SUMMARY,
        MetricKind.SUMMARY,
        MetricKind.HISTOGRAM,
        MetricKind.HISTOGRAM,
        MetricKind.GAUGE,
    ]
