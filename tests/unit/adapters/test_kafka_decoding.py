"""Decoding envelopes: the inverse of encoding, and clear reasons for rejects."""

import json

import pytest

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.decoding import MAX_PAYLOAD_BYTES, MessageRejected, decode
from monitoring_core.ports import Result
from tests.support import factories

ALL = factories.every_result()


@pytest.mark.parametrize("result", ALL)
def test_decoding_inverts_encoding(result: Result) -> None:
    _, envelope = encode(result, factories.NOW)
    decoded = decode(to_bytes(envelope))
    assert type(decoded) is type(result)
    # NaN never equals itself, so compare the re-encoded messages.
    assert encode(decoded, factories.NOW)[1] == envelope


def _message(**changes: object) -> bytes:
    _, envelope = encode(factories.score(), factories.NOW)
    envelope.update(changes)
    return to_bytes(envelope)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (_message(schema=2), "unsupported schema version 2"),
        (_message(type="gossip"), "unknown type 'gossip'"),
        (_message(data={"mae": 1}), "forecast_score schema"),
        (
            _message(
                series={"id": "0000000000000000", "name": "node_load1", "labels": {}}
            ),
            "does not match its labels",
        ),
        (
            b'{"schema": 1, "type": "etl_run", "pad": "'
            + b"x" * MAX_PAYLOAD_BYTES
            + b'"}',
            "exceeds",
        ),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(
    payload: bytes, reason: str
) -> None:
    with pytest.raises(MessageRejected, match=reason):
        decode(payload)


def test_a_missing_field_names_where_it_is_missing() -> None:
    _, envelope = encode(factories.forecast(), factories.NOW)
    del envelope["data"]["points"][0]["upper_95"]
    with pytest.raises(MessageRejected) as err:
        decode(json.dumps(envelope).encode())
    assert "data/points/0" in str(err.value)
