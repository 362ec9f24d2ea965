"""Every message type encodes to JSON that validates against its schema."""

import json

import attrs
import jsonschema
import pytest

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.decoding import MessageRejected, decode
from monitoring_core.series import MetricKind, SeriesKey
from tests.support import factories
from tests.support.schemas import validate


@pytest.mark.parametrize(
    "result",
    factories.every_result(),
)
def test_every_result_validates_against_its_schema(result: object) -> None:
    key, envelope = encode(result, factories.NOW)  # type: ignore[arg-type]
    decoded = json.loads(to_bytes(envelope))
    validate(decoded)
    assert decoded["schema"] == 1
    assert decoded["computed_at"] == "2026-11-26T12:00:00.000Z"
    if decoded["type"] == "etl_run":
        assert key == decoded["data"]["run_id"] and decoded["series"] is None
    else:
        assert key == decoded["series"]["id"] == factories.KEY.id


def test_window_stats_spell_non_finite_values_and_say_counters_are_rates() -> None:
    _, gauge = encode(factories.window_stats(), factories.NOW)
    _, counter = encode(factories.window_stats(MetricKind.COUNTER), factories.NOW)
    first = gauge["data"]["windows"][0]
    assert (first["max"], first["last"]) == ("+Inf", "NaN")
    assert first["window"] == "1h"
    assert gauge["data"]["windows"][1]["avg"] is None
    assert gauge["data"]["value_kind"] == "value"
    assert counter["data"]["value_kind"] == "per_second_rate"


def test_forecast_message_carries_distinct_predicted_min_max_avg() -> None:
    _, message = encode(factories.forecast(), factories.NOW)
    assert message["data"]["predicted"] == {"min": 1.0, "max": 10.0, "avg": 5.5}
    assert message["data"]["horizon_seconds"] == 600
    assert len(message["data"]["points"]) == 10


def test_schema_rejects_a_message_missing_a_field() -> None:
    _, message = encode(factories.score(), factories.NOW)
    del message["data"]["mae"]
    with pytest.raises(jsonschema.ValidationError):
        validate(json.loads(to_bytes(message)))


def test_metadata_keeps_the_verdict_and_acf() -> None:
    _, message = encode(factories.metadata(), factories.NOW)
    assert message["data"]["stationarity"] == "trend_stationary"
    assert message["data"]["acf"] == [1.0, 0.5, 0.25]
    assert message["data"]["seasonality"] == {"period_seconds": 3600, "strength": 0.8}


@pytest.mark.parametrize(
    ("name", "labels", "kind", "value_kind"),
    [
        ("node_load1", {}, MetricKind.GAUGE, "value"),
        ("jobs_total", {}, MetricKind.COUNTER, "per_second_rate"),
        ("rpc_seconds_bucket", {"le": "1"}, MetricKind.HISTOGRAM, "per_second_rate"),
        ("gc_seconds_sum", {}, MetricKind.SUMMARY, "per_second_rate"),
        ("gc_seconds", {"quantile": "0.5"}, MetricKind.SUMMARY, "value"),
    ],
)
def test_window_stats_and_forecasts_carry_kind_and_value_kind(
    name: str, labels: dict[str, str], kind: MetricKind, value_kind: str
) -> None:
    key = SeriesKey.of(name, labels)
    for result in (
        attrs.evolve(factories.window_stats(kind), series=key),
        attrs.evolve(factories.forecast(kind), series=key),
    ):
        _, envelope = encode(result, factories.NOW)
        message = json.loads(to_bytes(envelope))
        validate(message)
        assert (message["data"]["kind"], message["data"]["value_kind"]) == (
            kind.value,
            value_kind,
        )
        assert decode(to_bytes(envelope)).kind is kind  # type: ignore[union-attr]


def test_a_kind_outside_the_enum_is_refused() -> None:
    _, envelope = encode(factories.forecast(), factories.NOW)
    envelope["data"]["kind"] = "native_histogram"
    with pytest.raises(MessageRejected, match="forecast schema"):
        decode(to_bytes(envelope))
