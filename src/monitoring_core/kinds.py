"""Series kinds from declared metric types and Prometheus' naming conventions."""

from collections.abc import Iterable, Mapping

import attrs

from monitoring_core.series import QUANTILE_LABEL, MetricKind, SeriesInfo, SeriesKey

BUCKET_LABEL = "le"
"""Label of a classic histogram's bucket series: the bucket's upper bound."""

_DECLARED = {
    "counter": MetricKind.COUNTER,
    "gauge": MetricKind.GAUGE,
    "histogram": MetricKind.HISTOGRAM,
    "summary": MetricKind.SUMMARY,
    # A gauge histogram's buckets go up and down; info and stateset are 0/1.
    "gaugehistogram": MetricKind.GAUGE,
    "info": MetricKind.GAUGE,
    "stateset": MetricKind.GAUGE,
}
"""Metadata types that decide a kind; ``unknown`` (untyped) leaves it to names."""

_FAMILY_SUFFIXES = ("_bucket", "_count", "_sum", "_total")


@attrs.frozen
class Siblings:
    """What the other discovered series say about a family without metadata.

    Attributes:
        names: every discovered metric name.
        quantile_names: names with at least one series carrying ``quantile``.
    """

    names: frozenset[str]
    quantile_names: frozenset[str]

    @classmethod
    def of(cls, keys: Iterable[SeriesKey]) -> "Siblings":
        """The siblings found among these series."""
        keys = list(keys)
        return cls(
            names=frozenset(k.name for k in keys),
            quantile_names=frozenset(
                k.name for k in keys if QUANTILE_LABEL in k.label_map
            ),
        )


def _family_kind(name: str, declared: Mapping[str, str]) -> MetricKind | None:
    """The kind declared for the series' own name, else for its family."""
    if (kind := _DECLARED.get(declared.get(name, ""))) is not None:
        return kind
    for suffix in _FAMILY_SUFFIXES:
        if name.endswith(suffix):
            family = _DECLARED.get(declared.get(name.removesuffix(suffix), ""))
            return _suffixed(family, suffix)
    return None


def _suffixed(family: MetricKind | None, suffix: str) -> MetricKind | None:
    """A family's type as it applies to one of its suffixed series."""
    if family is MetricKind.HISTOGRAM and suffix != "_total":
        return family
    if family is MetricKind.SUMMARY and suffix in ("_count", "_sum"):
        return family
    if family is MetricKind.COUNTER and suffix == "_total":
        return family
    if family is MetricKind.GAUGE and suffix == "_bucket":
        return family  # a gauge histogram's bucket
    return None


def _named_kind(name: str, labels: Mapping[str, str], siblings: Siblings) -> MetricKind:
    """The kind Prometheus' exposition conventions give a name without metadata."""
    if name.endswith("_total"):
        return MetricKind.COUNTER
    if name.endswith("_bucket") and BUCKET_LABEL in labels:
        return MetricKind.HISTOGRAM
    for suffix in ("_count", "_sum"):
        if name.endswith(suffix):
            family = name.removesuffix(suffix)
            if f"{family}_bucket" in siblings.names:
                return MetricKind.HISTOGRAM
            if family in siblings.quantile_names:
                return MetricKind.SUMMARY
            # Alone, still cumulative: every exposition format says so.
            return MetricKind.COUNTER
    if QUANTILE_LABEL in labels and siblings.names & {f"{name}_count", f"{name}_sum"}:
        return MetricKind.SUMMARY
    return MetricKind.GAUGE


def classify(
    key: SeriesKey, declared: Mapping[str, str], siblings: Siblings
) -> MetricKind:
    """The kind of one series, from metadata first and names second.

    Args:
        key: the series.
        declared: metric type by metric (family) name, as Prometheus'
            ``/api/v1/metadata`` gives it; empty for backfilled data.
        siblings: the other discovered series, for families without metadata.

    Returns:
        The declared type of the series' name or of its family (``foo`` for
        ``foo_bucket``, ``foo_count``, ``foo_sum``, ``foo_total``); without a
        usable declaration, the kind its name and labels imply.
    """
    found = _family_kind(key.name, declared)
    return (
        found if found is not None else _named_kind(key.name, key.label_map, siblings)
    )


def classify_all(
    keys: Iterable[SeriesKey], declared: Mapping[str, str]
) -> list[SeriesInfo]:
    """Every series with its kind, in the order given."""
    keys = list(keys)
    siblings = Siblings.of(keys)
    return [SeriesInfo(k, classify(k, declared, siblings)) for k in keys]
