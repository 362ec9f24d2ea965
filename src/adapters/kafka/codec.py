"""The JSON envelope of every result on the topic, encoded with one cattrs converter."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.formats.json_values import (
    converter,
    forecast_body,
    rfc3339,
    series_ref,
    window_body,
)
from monitoring_core.forecasts import Forecast
from monitoring_core.results import Result, result_type
from monitoring_core.runs import EtlRun
from monitoring_core.windows import SeriesWindowStats

SCHEMA_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)

_converter = converter()


def _window_stats(result: SeriesWindowStats) -> dict[str, Any]:
    return {
        "kind": result.kind.value,
        "value_kind": result.value_kind.value,
        "at": rfc3339(result.at),
        "windows": [window_body(w) for w in result.windows],
    }


def _forecast(result: Forecast) -> dict[str, Any]:
    kinds = {"kind": result.kind.value, "value_kind": result.value_kind.value}
    return {**kinds, **forecast_body(result)}


def _fields(result: Any) -> dict[str, Any]:
    """Every field but the series, which the envelope carries."""
    body: dict[str, Any] = _converter.unstructure(result)
    body.pop("series", None)
    return body


def _etl_run(result: EtlRun) -> dict[str, Any]:
    body = _fields(result)
    # From the millisecond timestamps the message carries, so it can be recomputed.
    # isoformat(timespec="milliseconds") truncates, so truncate here too.
    started, finished = (
        (t - _EPOCH) // _MILLISECOND for t in (result.started_at, result.finished_at)
    )
    body["seconds"] = (finished - started) / 1000
    # Optional and spelled by absence (ADR 0054, 0058): unknown counts, the
    # reason of a cycle that never ended, the worker and its shards appear
    # only when there is one, so an older ETL's messages read as before.
    for optional in (
        "results_delivered",
        "results_buffered",
        "aborted",
        "worker",
        "shards",
    ):
        if body[optional] is None:
            del body[optional]
    return body


DATA: dict[str, Callable[[Any], dict[str, Any]]] = {
    "window_stats": _window_stats,
    "metadata": _fields,
    "forecast": _forecast,
    "forecast_score": _fields,
    "etl_run": _etl_run,
}
"""The ``data`` of each result type's message, by tag; a type without an entry
is written field by field (``_fields``)."""


def encode(result: Result, computed_at: datetime) -> tuple[str, dict[str, Any]]:
    """The Kafka key and the JSON envelope of a result."""
    declared = result_type(result)
    data = DATA.get(declared.tag, _fields)(result)
    about = declared.series(result)
    series = None if about is None else series_ref(about)
    envelope = {
        "schema": SCHEMA_VERSION,
        "type": declared.tag,
        "series": series,
        "computed_at": rfc3339(computed_at),
        "data": data,
    }
    return declared.key(result), envelope


def to_bytes(envelope: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; refuses NaN so nothing invalid reaches the topic."""
    return json.dumps(envelope, separators=(",", ":"), allow_nan=False).encode()
