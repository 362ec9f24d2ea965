"""Validation of messages against the published JSON Schemas."""

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

TYPES = ("window_stats", "metadata", "forecast", "forecast_score", "etl_run")


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    """A validator for one message type, checking formats too."""
    text = resources.files("adapters.kafka.schemas").joinpath(f"{kind}.json")
    schema = json.loads(text.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def validate(message: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless the message fits its type's schema."""
    validator(message["type"]).validate(message)
