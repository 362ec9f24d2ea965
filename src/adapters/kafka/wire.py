"""The message envelopes as msgspec Structs: the JSON Schemas, checked in C.

The JSON Schemas in ``schemas/`` stay the published contract. These Structs
mirror them field for field so that msgspec can decode and check a message in
one pass (about 5 µs instead of 100 µs for the compiled schema). They are at
least as strict as the schemas; where they are stricter (a JSON ``1.0`` for an
integer, a bare ``NaN`` token, a number beyond 64 bits, a non-UTF-8 encoding),
``decoding`` asks the compiled schema for the verdict, so what is accepted is
exactly what the schemas accept (``tests/unit/adapters/test_kafka_wire.py``).

Mirroring rules: every object forbids unknown fields and requires every field
(no defaults) but the optional ones of the forecast (its kinds; its
distributions, whose absence msgspec's ``UNSET`` stands for, so that JSON null
stays refused as the schema refuses it) and of the ETL run (its counts, reason,
worker and shards, ``UNSET`` too); ``const``/``enum`` are ``Literal``;
``minimum``/``maximum`` are ``ge``/``le``; ``minLength``/``minItems`` are
``min_length``; ``pattern`` is the same regular expression (Python
``re.search``, as the compiled schema uses it), checked by ``decoding`` for
times; ``number`` is ``float`` (which takes JSON integers too); the envelopes are one
union tagged by ``type``.
"""

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

TIME_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"
"""The schemas' pattern of every time."""

Time = str
"""A time: ``decoding`` checks it against ``TIME_PATTERN`` and parses it (which
checks ``format: date-time``) once per distinct text, since times recur from
message to message; a regular expression per field here cost more."""
Special = Literal["NaN", "+Inf", "-Inf"]
Number = float | Special
"""``anyOf: [number, enum NaN/+Inf/-Inf]``."""
NumberOrNull = float | Special | None
Positive = Annotated[int, Meta(ge=1)]
Count = Annotated[int, Meta(ge=0)]
Share = Annotated[float, Meta(ge=0, le=1)]
Seconds = Annotated[float, Meta(ge=0)]
Shard = Annotated[int, Meta(ge=0, le=9999)]


class _Object(Struct, forbid_unknown_fields=True, gc=False):
    """A JSON object with ``additionalProperties: false``, every field required."""


class Series(_Object):
    id: Annotated[str, Meta(pattern="^[0-9a-f]{16}$")]
    name: Annotated[str, Meta(min_length=1)]
    labels: dict[str, str]


class Window(_Object):
    window: str
    window_seconds: Positive
    count: Count
    min: NumberOrNull
    max: NumberOrNull
    avg: NumberOrNull
    stddev: NumberOrNull
    last: NumberOrNull
    last_timestamp: Time | None


Kind = Literal["gauge", "counter", "histogram", "summary"]
ValueKind = Literal["value", "per_second_rate"]


class WindowStatsData(_Object):
    kind: Kind
    value_kind: ValueKind
    at: Time
    windows: Annotated[list[Window], Meta(min_length=1)]


class StationarityTest(_Object):
    statistic: Number
    p_value: Number
    stationary: bool


class Seasonality(_Object):
    period_seconds: int | None
    strength: NumberOrNull


class MetadataData(_Object):
    computed_at: Time
    lookback_seconds: int
    step_seconds: int
    sample_count: Count
    stationarity: Literal[
        "stationary",
        "non_stationary",
        "trend_stationary",
        "difference_stationary",
        "insufficient_data",
    ]
    reason: str | None
    adf: StationarityTest | None
    kpss: StationarityTest | None
    acf: list[Number]
    acf_significant_lags: list[Positive]
    seasonality: Seasonality


class Band(_Object):
    lower_95: Number
    lower_80: Number
    median: Number
    upper_80: Number
    upper_95: Number


MaybeBand = Band | UnsetType
"""An optional band: absent means not given, JSON null is refused (ADR 0039)."""


class Intervals(_Object):
    min: MaybeBand = UNSET
    max: MaybeBand = UNSET
    avg: MaybeBand = UNSET


class Predicted(_Object):
    min: Number
    max: Number
    avg: Number
    intervals: Intervals | UnsetType = UNSET


class Point(_Object):
    timestamp: Time
    mean: Number
    lower_80: Number
    upper_80: Number
    lower_95: Number
    upper_95: Number
    running_max: MaybeBand = UNSET
    running_min: MaybeBand = UNSET


class ForecastData(_Object):
    made_at: Time
    step_seconds: Positive
    horizon_seconds: Positive
    model: str
    holdout_mae: Number
    predicted: Predicted
    points: Annotated[list[Point], Meta(min_length=1)]
    # Optional: forecasts published before ADR 0016 carry no kind (read as gauge).
    kind: Kind = "gauge"
    value_kind: ValueKind = "value"  # derived again on reading


class ScoreData(_Object):
    forecast_made_at: Time
    scored_at: Time
    model: str
    points_compared: Positive
    mae: Number
    coverage_80: Share
    coverage_95: Share


class StepTiming(_Object):
    step: Literal[
        "discovery", "window_stats", "metadata", "forecast", "scoring", "publish"
    ]
    seconds: Seconds
    error: str | None


class EtlRunData(_Object):
    run_id: Annotated[str, Meta(min_length=1)]
    started_at: Time
    finished_at: Time
    ok: bool
    steps: list[StepTiming]
    series_count: Count
    results_published: Count
    seconds: Seconds
    results_delivered: Count | UnsetType = UNSET
    results_buffered: Count | UnsetType = UNSET
    aborted: Annotated[str, Meta(min_length=1)] | UnsetType = UNSET
    worker: Annotated[str, Meta(min_length=1, max_length=255)] | UnsetType = UNSET
    # ``uniqueItems`` has no msgspec form: ``decoding`` checks it.
    shards: list[Shard] | UnsetType = UNSET


class _Envelope(_Object, tag_field="type"):
    """``{"schema": 1, "type": …, "series": …, "computed_at": …, "data": …}``."""


class WindowStatsMessage(_Envelope, tag="window_stats"):
    schema: Literal[1]
    series: Series
    computed_at: Time
    data: WindowStatsData


class MetadataMessage(_Envelope, tag="metadata"):
    schema: Literal[1]
    series: Series
    computed_at: Time
    data: MetadataData


class ForecastMessage(_Envelope, tag="forecast"):
    schema: Literal[1]
    series: Series
    computed_at: Time
    data: ForecastData


class ScoreMessage(_Envelope, tag="forecast_score"):
    schema: Literal[1]
    series: Series
    computed_at: Time
    data: ScoreData


class EtlRunMessage(_Envelope, tag="etl_run"):
    schema: Literal[1]
    series: None
    computed_at: Time
    data: EtlRunData


Message = (
    WindowStatsMessage
    | MetadataMessage
    | ForecastMessage
    | ScoreMessage
    | EtlRunMessage
)
TYPES = {
    "window_stats": WindowStatsMessage,
    "metadata": MetadataMessage,
    "forecast": ForecastMessage,
    "forecast_score": ScoreMessage,
    "etl_run": EtlRunMessage,
}
"""The Struct of each message type, by the ``type`` it carries."""

decoder: msgspec.json.Decoder[Message] = msgspec.json.Decoder(Message)
"""Decodes and checks one message value; raises ``msgspec.DecodeError``."""
