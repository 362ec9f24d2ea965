"""Reading envelopes back into domain results, rejecting anything malformed."""

import json
import math
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import cattrs
import fastjsonschema

from adapters.kafka.codec import SCHEMA_VERSION
from monitoring_core.errors import MonitoringError
from monitoring_core.forecasts import Forecast, ForecastPoint, ForecastScore
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import Result
from monitoring_core.runs import EtlRun
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats

MAX_PAYLOAD_BYTES = 524_288
"""Real results are a few KB; anything this large is garbage, not data."""
_SPECIAL = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}


class MessageRejected(MonitoringError):
    """A message that cannot become a result; the text says why."""


def parse_number(value: float | int | str | None) -> float | None:
    """The inverse of ``codec.number``."""
    if value is None:
        return None
    if isinstance(value, str):
        return _SPECIAL[value]
    return float(value)


def _float(value: float | int | str | None) -> float:
    number = parse_number(value)
    if number is None:
        raise MessageRejected("a required number is null")
    return number


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 string as an aware datetime."""
    return None if text is None else datetime.fromisoformat(text)


def _unix(text: str | None) -> float | None:
    moment = parse_time(text)
    return None if moment is None else moment.timestamp()


_converter = cattrs.Converter()
_converter.register_structure_hook(datetime, lambda v, _: parse_time(v))
_converter.register_structure_hook(float, lambda v, _: parse_number(v))
# The series was already checked and built from the envelope; keep it as it is.
_converter.register_structure_hook(SeriesKey, lambda v, _: v)


@cache
def _validator(kind: str) -> Callable[[Any], Any]:
    """The type's JSON Schema compiled to Python (about 8x faster than
    interpreting it; the tests check messages with jsonschema as well)."""
    text = resources.files("adapters.kafka.schemas").joinpath(f"{kind}.json")
    validate: Callable[[Any], Any] = fastjsonschema.compile(
        json.loads(text.read_text())
    )
    return validate


def _window(raw: dict[str, Any]) -> WindowStats:
    numbers = {k: parse_number(raw[k]) for k in ("min", "max", "avg", "stddev", "last")}
    return WindowStats(
        window_seconds=raw["window_seconds"],
        count=raw["count"],
        last_timestamp=_unix(raw["last_timestamp"]),
        **numbers,
    )


def _window_stats(key: SeriesKey, data: dict[str, Any]) -> SeriesWindowStats:
    return SeriesWindowStats(
        series=key,
        kind=MetricKind(data["kind"]),
        at=datetime.fromisoformat(data["at"]),
        windows=tuple(_window(w) for w in data["windows"]),
    )


def _forecast(key: SeriesKey, data: dict[str, Any]) -> Forecast:
    points = tuple(
        ForecastPoint(
            timestamp=datetime.fromisoformat(p["timestamp"]).timestamp(),
            **{k: _float(v) for k, v in p.items() if k != "timestamp"},
        )
        for p in data["points"]
    )
    return Forecast(
        series=key,
        made_at=datetime.fromisoformat(data["made_at"]),
        step_seconds=data["step_seconds"],
        model=data["model"],
        holdout_mae=_float(data["holdout_mae"]),
        points=points,
    )


def _result(kind: str, key: SeriesKey | None, data: dict[str, Any]) -> Result:
    if kind == "etl_run":
        fields = {k: v for k, v in data.items() if k != "seconds"}
        return _converter.structure(fields, EtlRun)
    assert key is not None  # the schema requires a series for every other type
    if kind == "window_stats":
        return _window_stats(key, data)
    if kind == "forecast":
        return _forecast(key, data)
    fields = {**data, "series": key}
    if kind == "metadata":
        return _converter.structure(fields, SeriesMetadata)
    return _converter.structure(fields, ForecastScore)


def _series(raw: dict[str, Any] | None) -> SeriesKey | None:
    if raw is None:
        return None
    key = SeriesKey.of(raw["name"], raw["labels"])
    if key.id != raw["id"]:
        raise MessageRejected(
            f"series id {raw['id']} does not match its labels ({key.id})"
        )
    return key


def _envelope(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise MessageRejected(
            f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}"
        )
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MessageRejected(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MessageRejected("not a JSON object")
    if body.get("schema") != SCHEMA_VERSION:
        raise MessageRejected(f"unsupported schema version {body.get('schema')!r}")
    kind = body.get("type")
    if kind not in (
        "window_stats",
        "metadata",
        "forecast",
        "forecast_score",
        "etl_run",
    ):
        raise MessageRejected(f"unknown type {kind!r}")
    try:
        _validator(kind)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = "/".join(str(p) for p in exc.path[1:]) or "message"
        raise MessageRejected(f"{kind} schema: {where}: {exc.message[:300]}") from exc
    return body


def decode(payload: bytes) -> Result:
    """Turn one message value into a result.

    Raises:
        MessageRejected: too large, not JSON, unknown version or type, not valid
            against the type's JSON Schema, or inconsistent (series id).
    """
    body = _envelope(payload)
    try:
        return _result(body["type"], _series(body["series"]), body["data"])
    except MessageRejected:
        raise
    except cattrs.BaseValidationError as exc:
        details = "; ".join(cattrs.transform_error(exc))
        raise MessageRejected(f"{body['type']}: {details}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise MessageRejected(f"{body['type']}: {exc!r}") from exc
