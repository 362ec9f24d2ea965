"""The result types, each declared once: class, tag, series and time (ADR 0028).

Every edge that handles results (the Kafka codec, the SQL writer, the in-memory
store, the REST answers) keeps one table keyed by the ``tag`` declared here and
looks a result's type up with ``result_type``, instead of ``isinstance`` chains.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs

from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.runs import EtlRun
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats

Result = SeriesWindowStats | SeriesMetadata | Forecast | ForecastScore | EtlRun
"""Everything the ETL publishes (one member per entry of ``RESULT_TYPES``)."""


@attrs.frozen(kw_only=True)
class ResultType:
    """What the core knows of one kind of result.

    Attributes:
        tag: its name on every edge (message ``type``, schema file, table key).
        cls: the domain class.
        series: the series it is about, or None for a result about no series.
        key: what it is filed under: its series' id, or its own id.
        seen_at: when it shows its series was seen (its key time).
        series_kind: the series' metric kind when the result is the authority
            on it (window statistics), else None.
    """

    tag: str
    cls: type[Any]
    series: Callable[[Any], SeriesKey | None]
    key: Callable[[Any], str]
    seen_at: Callable[[Any], datetime]
    series_kind: Callable[[Any], MetricKind | None] = lambda _: None


RESULT_TYPES = (
    ResultType(
        tag="window_stats",
        cls=SeriesWindowStats,
        series=lambda r: r.series,
        key=lambda r: r.series.id,
        seen_at=lambda r: r.at,
        series_kind=lambda r: r.kind,
    ),
    ResultType(
        tag="metadata",
        cls=SeriesMetadata,
        series=lambda r: r.series,
        key=lambda r: r.series.id,
        seen_at=lambda r: r.computed_at,
    ),
    ResultType(
        tag="forecast",
        cls=Forecast,
        series=lambda r: r.series,
        key=lambda r: r.series.id,
        seen_at=lambda r: r.made_at,
    ),
    ResultType(
        tag="forecast_score",
        cls=ForecastScore,
        series=lambda r: r.series,
        key=lambda r: r.series.id,
        seen_at=lambda r: r.scored_at,
    ),
    ResultType(
        tag="etl_run",
        cls=EtlRun,
        series=lambda _: None,
        key=lambda r: r.run_id,
        seen_at=lambda r: r.started_at,
    ),
)
"""Every result type, in the order the topic's documentation lists them."""

TAGS = tuple(t.tag for t in RESULT_TYPES)
BY_TAG = {t.tag: t for t in RESULT_TYPES}
_BY_CLASS = {t.cls: t for t in RESULT_TYPES}


def result_type(result: Result) -> ResultType:
    """The declaration of a result's type (exact class, no subclasses)."""
    return _BY_CLASS[type(result)]


def tag_of(result: Result) -> str:
    """The tag of a result's type."""
    return _BY_CLASS[type(result)].tag
