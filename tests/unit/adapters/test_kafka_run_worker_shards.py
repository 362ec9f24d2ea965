"""``etl_run`` messages carry the worker and its shards (ADR 0058), and stay
readable both ways: an older ETL's message (no such keys) decodes with None,
and a message of an ETL that knows neither is byte for byte what the schema
before them accepted."""

import copy
import json
from typing import Any

import attrs
import jsonschema
import pytest

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.decoding import MessageRejected, _checked, decode, decode_fast
from tests.support import factories
from tests.support.schemas import validator


def _envelope(run: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(to_bytes(encode(run, factories.NOW)[1]))
    return envelope


def _schema_before_0058() -> jsonschema.Draft202012Validator:
    """The published schema without the two properties this change added."""
    schema = copy.deepcopy(validator("etl_run").schema)
    for added in ("worker", "shards"):
        del schema["properties"]["data"]["properties"][added]
    return jsonschema.Draft202012Validator(schema)


def test_worker_and_shards_travel_and_decode_the_same_on_both_paths() -> None:
    run = factories.sharded_etl_run()
    envelope = _envelope(run)
    assert envelope["data"]["worker"] == "etl-host-1a2b3c4d"
    assert envelope["data"]["shards"] == [0, 1, 2, 3, 7, 9, 10]
    payload = json.dumps(envelope).encode()
    assert decode_fast(payload) == run
    assert _checked(payload) == run


def test_a_run_without_worker_or_shards_is_what_older_readers_accept() -> None:
    envelope = _envelope(factories.etl_run())
    assert "worker" not in envelope["data"] and "shards" not in envelope["data"]
    assert _schema_before_0058().is_valid(envelope)
    assert not _schema_before_0058().is_valid(_envelope(factories.sharded_etl_run()))


def test_an_older_etls_message_decodes_with_no_worker_and_no_shards() -> None:
    run = decode(to_bytes(encode(factories.etl_run(), factories.NOW)[1]))
    assert run.worker is None and run.shards is None  # type: ignore[union-attr]


def test_shards_in_any_order_read_ascending_on_both_paths() -> None:
    envelope = _envelope(factories.sharded_etl_run())
    envelope["data"]["shards"] = [10, 0, 7, 3]
    payload = json.dumps(envelope).encode()
    assert decode_fast(payload).shards == (0, 3, 7, 10)  # type: ignore[union-attr]
    assert _checked(payload).shards == (0, 3, 7, 10)  # type: ignore[attr-defined]


def test_no_shard_at_all_is_kept_apart_from_unknown() -> None:
    run = attrs.evolve(factories.sharded_etl_run(), shards=())
    assert _envelope(run)["data"]["shards"] == []
    assert decode(to_bytes(encode(run, factories.NOW)[1])) == run


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("shards", [3, 3], "must contain unique items"),
        ("shards", [10_000], "smaller than or equal to 9999"),
        ("shards", [-1], "bigger than or equal to 0"),
        ("shards", None, "must be array"),
        ("shards", "0-3", "must be array"),
        ("worker", "", "longer than or equal to 1"),
        ("worker", "w" * 256, "shorter than or equal to 255"),
        ("worker", None, "must be string"),
    ],
)
def test_a_bad_worker_or_shards_is_refused_with_the_schemas_reason(
    field: str, value: Any, reason: str
) -> None:
    envelope = _envelope(factories.sharded_etl_run())
    envelope["data"][field] = value
    payload = json.dumps(envelope).encode()
    assert decode_fast(payload) is None
    with pytest.raises(MessageRejected, match=f"data/{field}.*{reason}"):
        decode(payload)
