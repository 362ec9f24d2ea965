"""Reading envelopes back into domain results, rejecting anything malformed.

Two paths give the same verdict and the same result. The fast one decodes the
message with msgspec into the Structs of ``wire`` (the JSON Schemas mirrored,
checked in C) and builds the result from them. Anything it does not accept
(poison, or a valid message in a form the Structs are stricter about) takes the
checked path: ``json.loads``, the compiled JSON Schema, then the result; that
path alone decides what is rejected and says why.
"""

import itertools
import json
import math
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import cattrs
import fastjsonschema
import msgspec

from adapters.bounded_cache import BoundedCache
from adapters.formats.json_values import BAND_KEYS, POINT_KEYS
from adapters.kafka import wire
from adapters.kafka.codec import SCHEMA_VERSION
from monitoring_core.errors import MonitoringError
from monitoring_core.forecasts import Band, Forecast, ForecastPoint, ForecastScore
from monitoring_core.metadata import (
    Seasonality,
    SeriesMetadata,
    Stationarity,
    StationarityTest,
)
from monitoring_core.results import BY_TAG, TAGS, Result
from monitoring_core.runs import EtlRun, Step, StepTiming
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


def _band(raw: dict[str, Any] | None) -> Band | None:
    """A band of the message; absent (None) when not given."""
    if raw is None:
        return None
    return Band(**{k: _float(raw[k]) for k in BAND_KEYS})


def _point(raw: dict[str, Any]) -> ForecastPoint:
    return ForecastPoint(
        timestamp=datetime.fromisoformat(raw["timestamp"]).timestamp(),
        **{k: _float(raw[k]) for k in POINT_KEYS},
        running_max=_band(raw.get("running_max")),
        running_min=_band(raw.get("running_min")),
    )


def _forecast(key: SeriesKey, data: dict[str, Any]) -> Forecast:
    # ``predicted`` is derived from the points, but for the horizon's mean.
    intervals = data["predicted"].get("intervals", {})
    return Forecast(
        series=key,
        made_at=datetime.fromisoformat(data["made_at"]),
        step_seconds=data["step_seconds"],
        model=data["model"],
        holdout_mae=_float(data["holdout_mae"]),
        points=tuple(_point(p) for p in data["points"]),
        kind=MetricKind(data.get("kind", MetricKind.GAUGE)),
        average=_band(intervals.get("avg")),
    )


def _run(_: None, data: dict[str, Any]) -> EtlRun:
    fields = {k: v for k, v in data.items() if k != "seconds"}
    if "shards" in fields:  # unique (the schema); any order reads ascending
        fields["shards"] = sorted(fields["shards"])
    return _converter.structure(fields, EtlRun)


def _structured(
    cls: type[Result],
) -> Callable[[SeriesKey | None, dict[str, Any]], Result]:
    def structure(key: SeriesKey | None, data: dict[str, Any]) -> Result:
        fields = data if key is None else {**data, "series": key}
        return _converter.structure(fields, cls)

    return structure


CHECKED: dict[str, Callable[[Any, dict[str, Any]], Result]] = {
    "window_stats": _window_stats,
    "metadata": _structured(SeriesMetadata),
    "forecast": _forecast,
    "forecast_score": _structured(ForecastScore),
    "etl_run": _run,
}
"""The checked path's result of each type, by tag, from its series and data
(the schemas require a series for every type but ``etl_run``); a type without
an entry is structured field by field from its data (``_structured``)."""


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
    if kind not in TAGS:  # a tuple: an unhashable ``type`` is unknown, not an error
        raise MessageRejected(f"unknown type {kind!r}")
    try:
        _validator(kind)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = "/".join(str(p) for p in exc.path[1:]) or "message"
        raise MessageRejected(f"{kind} schema: {where}: {exc.message[:300]}") from exc
    return body


def _checked(payload: bytes) -> Result:
    """The reference path: ``json.loads``, the compiled JSON Schema, the result."""
    body = _envelope(payload)
    try:
        tag = body["type"]
        structure = CHECKED.get(tag) or _structured(BY_TAG[tag].cls)
        return structure(_series(body["series"]), body["data"])
    except MessageRejected:
        raise
    except cattrs.BaseValidationError as exc:
        details = "; ".join(cattrs.transform_error(exc))
        raise MessageRejected(f"{body['type']}: {details}") from exc
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise MessageRejected(f"{body['type']}: {exc!r}") from exc


_KINDS = {kind.value: kind for kind in MetricKind}
"""Looked up, not called: calling an enum costs more than building the result."""


class _NotFast(Exception):
    """The fast path leaves this message to the checked one."""


# The fast path. Times and series recur from message to message (every series
# of a cycle shares its evaluation time), so their parsed forms are remembered.
_CACHED = 65_536
_times: BoundedCache[str, datetime] = BoundedCache(_CACHED)
_unix_times: BoundedCache[str, float] = BoundedCache(_CACHED)
_keys: BoundedCache[tuple[str, str, tuple[tuple[str, str], ...]], SeriesKey]
_keys = BoundedCache(_CACHED)


_time_pattern = re.compile(wire.TIME_PATTERN).search


def _parsed(text: str) -> datetime:
    """A time of the schemas: their pattern, then a real date and time."""
    if _time_pattern(text) is None:
        raise _NotFast(f"not a time: {text!r}")
    return datetime.fromisoformat(text)


def _time(text: str) -> datetime:
    moment = _times.get(text)
    if moment is None:
        moment = _times.keep(text, _parsed(text))
    return moment


def _unix_time(text: str) -> float:
    seconds = _unix_times.get(text)
    if seconds is None:
        seconds = _unix_times.keep(text, _parsed(text).timestamp())
    return seconds


def _number(value: float | str | None) -> float | None:
    return _SPECIAL[value] if value.__class__ is str else value  # type: ignore[return-value]


def _required(value: float | str) -> float:
    return _SPECIAL[value] if value.__class__ is str else value  # type: ignore[return-value]


def _key(raw: wire.Series) -> SeriesKey:
    seen = (raw.id, raw.name, tuple(raw.labels.items()))
    key = _keys.get(seen)
    if key is None:
        key = SeriesKey.of(raw.name, raw.labels)
        if key.id != raw.id:
            raise _NotFast("series id does not match its labels")
        _keys.keep(seen, key)
    return key


def _fast_window(w: wire.Window) -> WindowStats:
    stamp = w.last_timestamp
    return WindowStats(
        window_seconds=w.window_seconds,
        count=w.count,
        min=_number(w.min),
        max=_number(w.max),
        avg=_number(w.avg),
        stddev=_number(w.stddev),
        last=_number(w.last),
        last_timestamp=None if stamp is None else _unix_time(stamp),
    )


def _fast_band(b: wire.MaybeBand) -> Band | None:
    if b is msgspec.UNSET:
        return None
    return Band(
        lower_95=_required(b.lower_95),
        lower_80=_required(b.lower_80),
        median=_required(b.median),
        upper_80=_required(b.upper_80),
        upper_95=_required(b.upper_95),
    )


def _fast_point(p: wire.Point) -> ForecastPoint:
    return ForecastPoint(
        timestamp=_unix_time(p.timestamp),
        mean=_required(p.mean),
        lower_80=_required(p.lower_80),
        upper_80=_required(p.upper_80),
        lower_95=_required(p.lower_95),
        upper_95=_required(p.upper_95),
        running_max=_fast_band(p.running_max),
        running_min=_fast_band(p.running_min),
    )


def _fast_test(test: wire.StationarityTest | None) -> StationarityTest | None:
    if test is None:
        return None
    return StationarityTest(
        statistic=_required(test.statistic),
        p_value=_required(test.p_value),
        stationary=test.stationary,
    )


def _fast_metadata(key: SeriesKey, d: wire.MetadataData) -> SeriesMetadata:
    return SeriesMetadata(
        series=key,
        computed_at=_time(d.computed_at),
        lookback_seconds=d.lookback_seconds,
        step_seconds=d.step_seconds,
        sample_count=d.sample_count,
        stationarity=Stationarity(d.stationarity),
        reason=d.reason,
        adf=_fast_test(d.adf),
        kpss=_fast_test(d.kpss),
        acf=tuple([_required(v) for v in d.acf]),
        acf_significant_lags=tuple(d.acf_significant_lags),
        seasonality=Seasonality(
            period_seconds=d.seasonality.period_seconds,
            strength=_number(d.seasonality.strength),
        ),
    )


def _fast_run(d: wire.EtlRunData) -> EtlRun:
    return EtlRun(
        run_id=d.run_id,
        started_at=_time(d.started_at),
        finished_at=_time(d.finished_at),
        ok=d.ok,
        steps=tuple(
            StepTiming(step=Step(s.step), seconds=s.seconds, error=s.error)
            for s in d.steps
        ),
        series_count=d.series_count,
        results_published=d.results_published,
        results_delivered=_count(d.results_delivered),
        results_buffered=_count(d.results_buffered),
        aborted=None if d.aborted is msgspec.UNSET else d.aborted,
        worker=None if d.worker is msgspec.UNSET else d.worker,
        shards=_shards(d.shards),
    )


def _count(n: int | msgspec.UnsetType) -> int | None:
    return None if n is msgspec.UNSET else n


def _shards(given: list[int] | msgspec.UnsetType) -> tuple[int, ...] | None:
    """Ascending; a repeated shard is for the schema to refuse (``uniqueItems``)."""
    if given is msgspec.UNSET:
        return None
    shards = tuple(sorted(given))
    if any(a == b for a, b in itertools.pairwise(shards)):
        raise _NotFast("a shard is listed twice")
    return shards


def _fast_window_stats(message: wire.WindowStatsMessage) -> SeriesWindowStats:
    stats = message.data
    return SeriesWindowStats(
        series=_key(message.series),
        kind=_KINDS[stats.kind],
        at=_time(stats.at),
        windows=tuple([_fast_window(w) for w in stats.windows]),
    )


def _fast_forecast(message: wire.ForecastMessage) -> Forecast:
    forecast = message.data
    intervals = forecast.predicted.intervals
    return Forecast(
        series=_key(message.series),
        made_at=_time(forecast.made_at),
        step_seconds=forecast.step_seconds,
        model=forecast.model,
        holdout_mae=_required(forecast.holdout_mae),
        points=tuple([_fast_point(p) for p in forecast.points]),
        kind=_KINDS[forecast.kind],
        average=None if intervals is msgspec.UNSET else _fast_band(intervals.avg),
    )


def _fast_score(message: wire.ScoreMessage) -> ForecastScore:
    score = message.data
    return ForecastScore(
        series=_key(message.series),
        forecast_made_at=_time(score.forecast_made_at),
        scored_at=_time(score.scored_at),
        model=score.model,
        points_compared=score.points_compared,
        mae=_required(score.mae),
        coverage_80=score.coverage_80,
        coverage_95=score.coverage_95,
    )


FAST: dict[str, Callable[[Any], Result]] = {
    "window_stats": _fast_window_stats,
    "metadata": lambda m: _fast_metadata(_key(m.series), m.data),
    "forecast": _fast_forecast,
    "forecast_score": _fast_score,
    "etl_run": lambda m: _fast_run(m.data),
}
"""The fast path's result of each type, by tag, from its ``wire`` Struct; a
type without a Struct decodes on the checked path (slower, same result)."""
_FAST_BY_STRUCT = {wire.TYPES[tag]: build for tag, build in FAST.items()}


def _fast(message: wire.Message) -> Result:
    _time(message.computed_at)  # format: date-time, as the schemas check it
    return _FAST_BY_STRUCT[type(message)](message)


_LEFT_TO_CHECKED = (msgspec.DecodeError, _NotFast, ValueError, ArithmeticError)


def decode_fast(payload: bytes) -> Result | None:
    """The result through the Structs of ``wire``, or None when the message
    must go the checked way (it is poison, or valid in a form they refuse)."""
    try:
        return _fast(wire.decoder.decode(payload))
    except _LEFT_TO_CHECKED:
        return None


def decode(payload: bytes) -> Result:
    """Turn one message value into a result.

    Raises:
        MessageRejected: too large, not JSON, unknown version or type, not valid
            against the type's JSON Schema, or inconsistent (series id).
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise MessageRejected(
            f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}"
        )
    result = decode_fast(payload)
    return _checked(payload) if result is None else result
