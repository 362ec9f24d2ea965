"""The hand-written OpenAPI 3.1 document of the API, served at ``/openapi.json``."""

import copy
from typing import Any

from adapters.rest.middleware import MAX_URI
from adapters.rest.openapi_schemas import SCHEMAS, Schema, ref
from adapters.rest.params import DURATION, MAX_SELECTORS, TIME

_PROBLEM = {"application/problem+json": {"schema": ref("Problem")}}
_TIME_TEXT = "RFC 3339 time with a zone (2026-11-26T12:00:00Z) or Unix seconds."
_TIME = {"type": "string", "pattern": f"^({TIME})$"}
_DURATION = {"type": "string", "pattern": f"^({DURATION})$"}
_HEADERS = {
    "ETag": {"description": "Strong tag of the body.", "schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
}
_ERRORS = {
    "400": "A parameter is invalid; `parameter` names it.",
    "401": "`MONITORING_API_TOKEN` is set and the bearer token is missing or wrong.",
    "404": "No series has this id.",
    "414": f"The path and query are longer than {MAX_URI} characters.",
    "503": "The result store cannot be reached; retry after `Retry-After` seconds.",
}


def _param(name: str, where: str, schema: Schema, text: str) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": text,
        "schema": schema,
    }


_ID = _param("id", "path", {"type": "string", "pattern": "^[0-9a-f]{16}$"}, "Id.")


def _limit(default: int, maximum: int) -> Schema:
    schema = {"type": "integer", "minimum": 1, "maximum": maximum, "default": default}
    return _param("limit", "query", schema, "Most items to return.")


def _operation(
    summary: str, schema: str, parameters: list[Schema], errors: str
) -> Schema:
    responses: dict[str, Any] = {
        "200": {
            "description": "OK",
            "headers": _HEADERS,
            "content": {"application/json": {"schema": ref(schema)}},
        },
        "304": {"description": "Not modified: `If-None-Match` holds the ETag."},
    }
    for code in errors.split():
        headers = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[code] = {
            "description": _ERRORS[code],
            "content": _PROBLEM,
            **({"headers": headers} if code == "503" else {}),
        }
    return {
        "get": {
            "summary": summary,
            "operationId": summary.split(":")[0],
            "security": [{"bearerAuth": []}],
            "parameters": parameters,
            "responses": responses,
        }
    }


def _open(summary: str, media: str, schema: Schema, problem: bool = False) -> Schema:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {media: {"schema": schema}}}
    }
    if problem:
        responses["503"] = {
            "description": "The store does not answer.",
            "content": _PROBLEM,
        }
    return {
        "get": {
            "summary": summary,
            "operationId": summary.split(":")[0],
            "responses": responses,
        }
    }


_MATCH = _param(
    "match[]",
    "query",
    {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "maxItems": MAX_SELECTORS,
    },
    "PromQL series selector, repeatable; a series is listed if any matches. "
    f"At most {MAX_SELECTORS} per request (more: 400).",
)
_SERIES = [
    _param("name", "query", {"type": "string"}, "Only series of this metric."),
    {**_MATCH, "style": "form", "explode": True},
    _param("cursor", "query", {"type": "string"}, "`next_cursor` of the last page."),
    _limit(100, 1000),
]
_HISTORY = [
    _ID,
    _param("from", "query", _TIME, _TIME_TEXT + " Default: to - 24h."),
    _param("to", "query", _TIME, _TIME_TEXT + " Default: now."),
    _param(
        "window",
        "query",
        _DURATION,
        "Only this window: one the ETL computes (`MONITORING_WINDOWS`, default "
        "1h, 3h, 12h); any other is a 400 naming them.",
    ),
]

_SHARDS = [
    _param(
        "since",
        "query",
        _DURATION,
        "Read the ETL runs that started this long ago or later (default 24h, "
        "at most 7d).",
    ),
    _param(
        "shards",
        "query",
        {"type": "integer", "minimum": 1, "maximum": 10000},
        "Report this many shards (`MONITORING_ETL_SHARDS` of the ETL); default: "
        "the largest shard a run covered plus one, or 64 when no run says.",
    ),
]

_PATHS = {
    "/v1/series": _operation(
        "listSeries: list series", "SeriesPage", _SERIES, "400 401 414 503"
    ),
    "/v1/series/{id}": _operation(
        "getSeries: one series", "Series", [_ID], "401 404 503"
    ),
    "/v1/series/{id}/metadata": _operation(
        "getMetadata: latest metadata", "MetadataResponse", [_ID], "401 404 503"
    ),
    "/v1/series/{id}/values": _operation(
        "getValues: latest window statistics", "Values", [_ID], "401 404 503"
    ),
    "/v1/series/{id}/values/history": _operation(
        "getHistory: statistics over at most 7 days",
        "History",
        _HISTORY,
        "400 401 404 503",
    ),
    "/v1/series/{id}/forecast": _operation(
        "getForecast: latest forecast and score",
        "ForecastResponse",
        [_ID],
        "401 404 503",
    ),
    "/v1/series/{id}/forecast/scores": _operation(
        "getScoreHistory: scores of the forecasts made over at most 7 days",
        "ScoreHistory",
        _HISTORY[:3],
        "400 401 404 503",
    ),
    "/v1/etl/runs": _operation(
        "listEtlRuns: recent ETL cycles", "EtlRuns", [_limit(20, 500)], "400 401 503"
    ),
    "/v1/etl/shards": _operation(
        "listEtlShards: each shard's worker and last analysis",
        "EtlShards",
        _SHARDS,
        "400 401 503",
    ),
    "/healthz": _open("healthz: liveness", "application/json", ref("Status")),
    "/readyz": _open(
        "readyz: store reachable", "application/json", ref("Status"), True
    ),
    "/metrics": _open(
        "metrics: Prometheus exposition", "text/plain", {"type": "string"}
    ),
    "/openapi.json": _open(
        "openapi: this document", "application/json", {"type": "object"}
    ),
    "/docs": _open("docs: this document as HTML", "text/html", {"type": "string"}),
}


def document() -> dict[str, Any]:
    """A fresh copy of the OpenAPI 3.1 document."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Monitoring results API",
                "version": "1",
                "description": "Statistics, metadata and forecasts of Prometheus "
                "series, read from the result store. Errors are RFC 9457 problems. "
                "Every GET route answers HEAD too: the same headers, no body.",
            },
            "paths": _PATHS,
            "components": {
                "schemas": SCHEMAS,
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
        }
    )
