"""Domain results as JSON-ready dicts: RFC 3339 UTC times, non-finite floats as text."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.formats.json_values import (
    converter,
    forecast_body,
    number,
    rfc3339,
    series_ref,
    unix_to_rfc3339,
    window_body,
)
from adapters.rest.shard_report import ShardReport
from monitoring_core.durations import format_duration
from monitoring_core.forecasts import Forecast, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.runs import EtlRun
from monitoring_core.series import MetricKind, SeriesKey, SeriesRecord, value_kind_of
from monitoring_core.sharding import ShardStatus, compact
from monitoring_core.windows import SeriesWindowStats

_converter = converter()


def _kinds(key: SeriesKey, kind: MetricKind) -> dict[str, str]:
    """The kind and the derived value kind (ADR 0016)."""
    return {"kind": kind.value, "value_kind": value_kind_of(key, kind).value}


def series(record: SeriesRecord) -> dict[str, Any]:
    """A stored series with its kind and when it was seen."""
    return {
        **series_ref(record.key),
        **_kinds(record.key, record.kind),
        "first_seen": rfc3339(record.first_seen),
        "last_seen": rfc3339(record.last_seen),
    }


def page(records: Sequence[SeriesRecord], next_cursor: str | None) -> dict[str, Any]:
    """One page of series and the cursor of the next (None at the end)."""
    return {"data": [series(r) for r in records], "next_cursor": next_cursor}


def _evaluation(stats: SeriesWindowStats, only: int | None) -> dict[str, Any]:
    chosen = [w for w in stats.windows if only is None or w.window_seconds == only]
    return {"at": rfc3339(stats.at), "windows": [window_body(w) for w in chosen]}


def _last_sample(stats: SeriesWindowStats, now: datetime) -> dict[str, Any] | None:
    timed = [w for w in stats.windows if w.last_timestamp is not None]
    if not timed:
        return None
    newest = max(timed, key=lambda w: w.last_timestamp or 0.0)
    stamp = newest.last_timestamp or 0.0
    return {
        "value": number(newest.last),
        "timestamp": unix_to_rfc3339(stamp),
        "age_seconds": round(now.timestamp() - stamp, 3),
    }


def values(
    key: SeriesKey, kind: MetricKind, stats: SeriesWindowStats | None, now: datetime
) -> dict[str, Any]:
    """The latest statistics of every window and the newest sample's age."""
    latest = _evaluation(stats, None) if stats else {"at": None, "windows": []}
    return {
        "series": series_ref(key),
        **_kinds(key, kind),
        **latest,
        "last_sample": _last_sample(stats, now) if stats else None,
    }


def history(
    record: SeriesRecord,
    found: Sequence[SeriesWindowStats],
    span: tuple[datetime, datetime],
    only: int | None,
) -> dict[str, Any]:
    """Statistics over time, oldest first, optionally of one window."""
    points = [_evaluation(s, only) for s in found]
    return {
        "series": series_ref(record.key),
        **_kinds(record.key, record.kind),
        "from": rfc3339(span[0]),
        "to": rfc3339(span[1]),
        "window": None if only is None else format_duration(only),
        "points": [p for p in points if p["windows"]],
    }


def metadata(record: SeriesRecord, found: SeriesMetadata | None) -> dict[str, Any]:
    """The latest metadata, or None when no analysis ran yet."""
    body: dict[str, Any] | None = None
    if found is not None:
        body = _converter.unstructure(found)
        body.pop("series")
    return {
        "series": series_ref(record.key),
        **_kinds(record.key, record.kind),
        "metadata": body,
    }


def forecast(
    record: SeriesRecord, found: Forecast | None, score: ForecastScore | None
) -> dict[str, Any]:
    """The latest forecast and the latest score, each None when absent."""
    scored: dict[str, Any] | None = None
    if score is not None:
        scored = _converter.unstructure(score)
        scored.pop("series")
    return {
        "series": series_ref(record.key),
        **_kinds(record.key, record.kind),
        "forecast": forecast_body(found) if found and found.points else None,
        "score": scored,
    }


def score_history(
    record: SeriesRecord,
    found: Sequence[ForecastScore],
    span: tuple[datetime, datetime],
) -> dict[str, Any]:
    """Scores of the forecasts made in the span, oldest first."""
    scores = []
    for score in found:
        scored = _converter.unstructure(score)
        scored.pop("series")
        scores.append(scored)
    return {
        "series": series_ref(record.key),
        **_kinds(record.key, record.kind),
        "from": rfc3339(span[0]),
        "to": rfc3339(span[1]),
        "scores": scores,
    }


def runs(found: Sequence[EtlRun]) -> dict[str, Any]:
    """Recent ETL cycles, newest first, with per-step seconds."""
    return {
        "data": [{**_converter.unstructure(r), "seconds": r.seconds} for r in found]
    }


def _shard(status: ShardStatus, now: datetime) -> dict[str, Any]:
    analysed = status.last_analysed_at
    age = None if analysed is None else (now - analysed).total_seconds()
    return {
        "shard": status.shard,
        "worker": status.worker,
        "last_analysed_at": None if analysed is None else rfc3339(analysed),
        "age_seconds": age,
        "last_run_id": status.last_run_id,
    }


def _workers(statuses: Sequence[ShardStatus]) -> list[dict[str, Any]]:
    """Each owner's shards as ranges; the shards no recorded cycle covered
    are under ``worker: null``."""
    owned: dict[str | None, list[int]] = {}
    for status in statuses:
        owned.setdefault(status.worker, []).append(status.shard)
    named = sorted((w, s) for w, s in owned.items() if w is not None)
    rows = [*named, *([(None, owned[None])] if None in owned else [])]
    return [{"worker": w, "ranges": compact(s), "shard_count": len(s)} for w, s in rows]


def shards(report: ShardReport, now: datetime) -> dict[str, Any]:
    """Which worker owns each shard and when each was last analysed."""
    return {
        "since": rfc3339(report.since),
        "shard_count": len(report.statuses),
        "shard_count_from": report.count_from,
        "runs_read": report.runs_read,
        "complete": report.complete,
        "workers": _workers(report.statuses),
        "shards": [_shard(s, now) for s in report.statuses],
    }
