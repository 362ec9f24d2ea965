"""Series identity: a metric name plus its full label set, with a stable id."""

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import attrs


class MetricKind(StrEnum):
    """What a series is: its Prometheus metric type (ADR 0016).

    Untyped (``unknown``) series are gauges unless a name convention says
    otherwise; see ``monitoring_core.kinds.classify``.
    """

    GAUGE = "gauge"
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"


class ValueKind(StrEnum):
    """What is analysed: the sampled value or its per-second rate (ADR 0007)."""

    VALUE = "value"
    PER_SECOND_RATE = "per_second_rate"


QUANTILE_LABEL = "quantile"
"""Label of a summary's quantile series, which are gauges of the family name."""


def value_kind_of(key: "SeriesKey", kind: MetricKind) -> ValueKind:
    """Cumulative series are analysed as per-second rates, the rest as values.

    Counters, every series of a classic histogram (``_bucket``, ``_count``,
    ``_sum``) and a summary's ``_count`` and ``_sum`` only ever grow (or reset),
    so their raw value says nothing; a summary's quantile series is a gauge.
    """
    if kind is MetricKind.COUNTER or kind is MetricKind.HISTOGRAM:
        return ValueKind.PER_SECOND_RATE
    if kind is MetricKind.SUMMARY and all(k != QUANTILE_LABEL for k, _ in key.labels):
        return ValueKind.PER_SECOND_RATE
    return ValueKind.VALUE


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sorted_labels(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


@attrs.frozen
class SeriesKey:
    """A series: metric name and every label except ``__name__``, sorted.

    Attributes:
        name: the metric name.
        labels: ``(label, value)`` pairs sorted by label.
    """

    name: str
    labels: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, name: str, labels: Mapping[str, str] | None = None) -> "SeriesKey":
        """Build a key from a name and any label mapping (``__name__`` ignored)."""
        return cls(name, _sorted_labels(labels or {}))

    @classmethod
    def from_prometheus(cls, metric: Mapping[str, str]) -> "SeriesKey":
        """Build a key from a Prometheus ``metric`` object (labels incl. __name__)."""
        return cls.of(metric.get("__name__", ""), metric)

    @property
    def canonical(self) -> str:
        """The canonical text ``name{a="1",b="2"}`` that the id hashes."""
        inner = ",".join(f'{k}="{_escape(v)}"' for k, v in self.labels)
        return f"{self.name}{{{inner}}}"

    @property
    def id(self) -> str:
        """Stable id: the first 16 hex digits of the SHA-256 of the canonical form."""
        return hashlib.sha256(self.canonical.encode()).hexdigest()[:16]

    @property
    def label_map(self) -> dict[str, str]:
        """The labels as a fresh dict."""
        return dict(self.labels)


@attrs.frozen
class SeriesInfo:
    """A discovered series and how it is analysed.

    Attributes:
        key: name and labels.
        kind: its metric type.
    """

    key: SeriesKey
    kind: MetricKind

    @property
    def value_kind(self) -> ValueKind:
        """The value or its per-second rate, derived from ``kind`` and the key."""
        return value_kind_of(self.key, self.kind)


@attrs.frozen(kw_only=True)
class SeriesRecord:
    """A stored series: identity, kind and when results about it were seen.

    Attributes:
        key: name and labels (``key.id`` is the series id).
        kind: its metric type, from its latest window statistics; gauge when
            no statistics were stored yet.
        first_seen, last_seen: earliest and latest time of a stored result.
    """

    key: SeriesKey
    kind: MetricKind
    first_seen: datetime
    last_seen: datetime

    @property
    def value_kind(self) -> ValueKind:
        """The value or its per-second rate, derived from ``kind`` and the key."""
        return value_kind_of(self.key, self.kind)


@attrs.frozen(kw_only=True)
class SeriesHistory:
    """Values of one series on a regular grid; NaN marks a step with no sample.

    Attributes:
        series: which series.
        start: Unix time of the first step.
        step_seconds: spacing of the grid.
        values: one value per step.
    """

    series: SeriesKey
    start: float
    step_seconds: int
    values: tuple[float, ...]

    @property
    def end(self) -> float:
        """Unix time of the last step."""
        return self.start + (len(self.values) - 1) * self.step_seconds

    def timestamps(self) -> list[float]:
        """The Unix time of every step."""
        return [self.start + i * self.step_seconds for i in range(len(self.values))]

    def measured(self) -> list[float]:
        """The values that are not NaN."""
        return [v for v in self.values if not math.isnan(v)]


@attrs.frozen
class SeriesSamples:
    """The raw samples of one series, ``(unix time, value)`` oldest first."""

    key: SeriesKey
    samples: tuple[tuple[float, float], ...]
