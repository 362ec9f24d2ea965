"""JSON Schemas of the API's bodies, the ``components.schemas`` of ``openapi.py``."""

from typing import Any

from monitoring_core.series import MetricKind, ValueKind

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """The schema or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


def obj(**properties: Schema) -> Schema:
    """An object with these properties, all required."""
    return {"type": "object", "properties": properties, "required": list(properties)}


def optional(schema: Schema, **properties: Schema) -> Schema:
    """An object schema with these properties too, each present only when known."""
    return {**schema, "properties": {**schema["properties"], **properties}}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
TIME: Schema = {"type": "string", "format": "date-time"}
KIND: Schema = {
    "type": "string",
    "enum": [k.value for k in MetricKind],
    "description": "The metric type, from Prometheus' metadata and names.",
}
VALUE_KIND: Schema = {
    "type": "string",
    "enum": [k.value for k in ValueKind],
    "description": "Statistics and forecasts are of the value or of its "
    "per-second rate (counters, histograms, summaries' _count and _sum).",
}
_SHARD: Schema = {"type": "integer", "minimum": 0, "maximum": 9999}
NUMBER = ref("Number")
MAYBE = nullable(ref("Number"))

_TEST = obj(statistic=NUMBER, p_value=NUMBER, stationary={"type": "boolean"})
_STATIONARITY = [
    "stationary",
    "non_stationary",
    "trend_stationary",
    "difference_stationary",
    "insufficient_data",
]
_PREDICTED = optional(
    obj(min=NUMBER, max=NUMBER, avg=NUMBER),
    intervals={
        "description": "Distributions of the window's min and max (the medians "
        "are ``min`` and ``max``) and of its mean value (``avg`` is the mean of "
        "the point forecasts); a key only when the forecaster gives it, the "
        "whole object absent when it gives none.",
        **optional(obj(), min=ref("Band"), max=ref("Band"), avg=ref("Band")),
    },
)
_STEPS = ["discovery", "window_stats", "metadata", "forecast", "scoring", "publish"]

SCHEMAS: dict[str, Schema] = {
    "Number": {
        "description": "A number; non-finite values as in Prometheus' API.",
        "anyOf": [
            {"type": "number"},
            {"type": "string", "enum": ["NaN", "+Inf", "-Inf"]},
        ],
    },
    "Problem": {
        "description": "RFC 9457 problem details.",
        **obj(type=STRING, title=STRING, status=INTEGER, detail=STRING),
    },
    "SeriesRef": obj(
        id={"type": "string", "pattern": "^[0-9a-f]{16}$"},
        name=STRING,
        labels={"type": "object", "additionalProperties": STRING},
    ),
    "Series": {
        "allOf": [
            ref("SeriesRef"),
            obj(kind=KIND, value_kind=VALUE_KIND, first_seen=TIME, last_seen=TIME),
        ]
    },
    "SeriesPage": obj(
        data={"type": "array", "items": ref("Series")},
        next_cursor=nullable(STRING),
    ),
    "Window": obj(
        window=STRING,
        window_seconds=INTEGER,
        count=INTEGER,
        min=MAYBE,
        max=MAYBE,
        avg=MAYBE,
        stddev=MAYBE,
        last=MAYBE,
        last_timestamp=nullable(TIME),
    ),
    "Evaluation": obj(at=TIME, windows={"type": "array", "items": ref("Window")}),
    "Values": obj(
        series=ref("SeriesRef"),
        kind=KIND,
        value_kind=VALUE_KIND,
        at=nullable(TIME),
        windows={"type": "array", "items": ref("Window")},
        last_sample=nullable(
            obj(value=MAYBE, timestamp=TIME, age_seconds={"type": "number"})
        ),
    ),
    "History": obj(
        series=ref("SeriesRef"),
        kind=KIND,
        value_kind=VALUE_KIND,
        **{"from": TIME, "to": TIME},
        window=nullable(STRING),
        points={"type": "array", "items": ref("Evaluation")},
    ),
    "MetadataResponse": obj(
        series=ref("SeriesRef"),
        kind=KIND,
        value_kind=VALUE_KIND,
        metadata=nullable(ref("Metadata")),
    ),
    "Metadata": obj(
        computed_at=TIME,
        lookback_seconds=INTEGER,
        step_seconds=INTEGER,
        sample_count=INTEGER,
        stationarity={"type": "string", "enum": _STATIONARITY},
        reason=nullable(STRING),
        adf=nullable(_TEST),
        kpss=nullable(_TEST),
        acf={"type": "array", "items": NUMBER},
        acf_significant_lags={"type": "array", "items": INTEGER},
        seasonality=obj(period_seconds=nullable(INTEGER), strength=MAYBE),
    ),
    "ForecastResponse": obj(
        series=ref("SeriesRef"),
        kind=KIND,
        value_kind=VALUE_KIND,
        forecast=nullable(ref("Forecast")),
        score=nullable(ref("ForecastScore")),
    ),
    "ScoreHistory": obj(
        series=ref("SeriesRef"),
        kind=KIND,
        value_kind=VALUE_KIND,
        **{"from": TIME, "to": TIME},
        scores={"type": "array", "items": ref("ForecastScore")},
    ),
    "Forecast": obj(
        made_at=TIME,
        step_seconds=INTEGER,
        horizon_seconds=INTEGER,
        model=STRING,
        holdout_mae=NUMBER,
        predicted=_PREDICTED,
        points={"type": "array", "items": ref("ForecastPoint")},
    ),
    "ForecastPoint": optional(
        obj(
            timestamp=TIME,
            mean=NUMBER,
            lower_80=NUMBER,
            upper_80=NUMBER,
            lower_95=NUMBER,
            upper_95=NUMBER,
        ),
        running_max={
            "description": "Distribution of the largest value from the first "
            "point up to this one; absent when the forecaster does not give it.",
            **ref("Band"),
        },
        running_min={
            "description": "Distribution of the smallest value from the first "
            "point up to this one; absent when the forecaster does not give it.",
            **ref("Band"),
        },
    ),
    "Band": {
        "description": "Five quantiles (2.5, 10, 50, 90 and 97.5 %) of a "
        "predictive distribution: its central 95 % and 80 % intervals and its "
        "median.",
        **obj(
            lower_95=NUMBER,
            lower_80=NUMBER,
            median=NUMBER,
            upper_80=NUMBER,
            upper_95=NUMBER,
        ),
    },
    "ForecastScore": obj(
        forecast_made_at=TIME,
        scored_at=TIME,
        model=STRING,
        points_compared=INTEGER,
        mae=NUMBER,
        coverage_80=NUMBER,
        coverage_95=NUMBER,
    ),
    "EtlRuns": obj(data={"type": "array", "items": ref("EtlRun")}),
    "EtlRun": obj(
        run_id=STRING,
        started_at=TIME,
        finished_at=TIME,
        ok={"type": "boolean"},
        steps={
            "type": "array",
            "items": obj(
                step={"type": "string", "enum": _STEPS},
                seconds=NUMBER,
                error=nullable(STRING),
            ),
        },
        series_count=INTEGER,
        results_published=INTEGER,
        results_delivered={
            **nullable(INTEGER),
            "description": "Of the results published, those the broker had "
            "acknowledged when the cycle ended; null when not known.",
        },
        results_buffered={
            **nullable(INTEGER),
            "description": "Results still in the ETL's buffer when the cycle "
            "ended (earlier cycles' included); null when not known.",
        },
        aborted={
            **nullable(STRING),
            "description": "Why the cycle never finished (recorded when the ETL "
            "started again); null for a cycle that ran to its end.",
        },
        worker={
            **nullable(STRING),
            "description": "The instance id of the ETL worker that ran the "
            "cycle; null when not known (an older ETL).",
        },
        shards={
            **nullable({"type": "array", "items": _SHARD}),
            "description": "The shards whose series the cycle analysed, "
            "ascending; null when not known (an older or unsharded ETL).",
        },
        seconds={"type": "number"},
    ),
    "EtlShards": obj(
        since={**TIME, "description": "Runs that started from then on were read."},
        shard_count={
            **INTEGER,
            "description": "Shards reported: the `shards` parameter, else the "
            "largest shard a run covered plus one, else 64.",
        },
        shard_count_from={"type": "string", "enum": ["parameter", "runs", "default"]},
        runs_read=INTEGER,
        complete={
            "type": "boolean",
            "description": "False when the span held more runs than were read "
            "(the oldest were left out).",
        },
        workers={
            "type": "array",
            "description": "Each worker's shards as ranges (e.g. 0-15,32), by "
            "worker; the shards no cycle covered under worker null.",
            "items": obj(
                worker=nullable(STRING),
                ranges=STRING,
                shard_count=INTEGER,
            ),
        },
        shards={
            "type": "array",
            "description": "Every shard, by number.",
            "items": obj(
                shard=_SHARD,
                worker={
                    **nullable(STRING),
                    "description": "The worker of the latest cycle that "
                    "covered the shard; null when none did.",
                },
                last_analysed_at={
                    **nullable(TIME),
                    "description": "End of the latest cycle that covered the "
                    "shard and did not fail; null when none did.",
                },
                age_seconds=nullable({"type": "number"}),
                last_run_id=nullable(STRING),
            ),
        },
    ),
    "Status": obj(status=STRING),
}
