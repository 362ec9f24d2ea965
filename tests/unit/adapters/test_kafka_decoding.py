"""Decoding envelopes: the inverse of encoding, and clear reasons for rejects."""

import json
from typing import Any

import pytest

from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.decoding import (
    MAX_PAYLOAD_BYTES,
    MessageRejected,
    _checked,
    decode,
    decode_fast,
)
from monitoring_core.forecasts import Forecast
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


def test_a_forecast_without_distributions_has_the_keys_of_an_older_etl() -> None:
    """An older storage service (closed schema) still accepts these messages."""
    _, envelope = encode(factories.forecast(), factories.NOW)
    data = envelope["data"]
    assert set(data["predicted"]) == {"min", "max", "avg"}
    assert {tuple(p) for p in data["points"]} == {
        ("timestamp", "mean", "lower_80", "upper_80", "lower_95", "upper_95")
    }


def test_distributions_decode_on_both_paths_and_are_absent_when_not_sent() -> None:
    banded = factories.forecast_with_distributions()
    payload = to_bytes(encode(banded, factories.NOW)[1])
    assert decode_fast(payload) == _checked(payload) == banded
    assert banded.average is not None and banded.window_max is not None
    _, envelope = encode(banded, factories.NOW)
    for point in envelope["data"]["points"]:  # as an older ETL writes them
        del point["running_max"], point["running_min"]
    del envelope["data"]["predicted"]["intervals"]
    old = to_bytes(envelope)
    for decoded in (decode_fast(old), _checked(old)):
        assert isinstance(decoded, Forecast) and decoded.average is None
        assert decoded.window_max is None and decoded.window_min is None
        assert [p.mean for p in decoded.points] == [p.mean for p in banded.points]


def test_an_empty_intervals_object_gives_no_average() -> None:
    _, envelope = encode(factories.forecast_with_distributions(), factories.NOW)
    envelope["data"]["predicted"]["intervals"] = {}
    payload = to_bytes(envelope)
    fast, checked = decode_fast(payload), _checked(payload)
    assert isinstance(fast, Forecast) and fast == checked
    assert fast.average is None and fast.window_max is not None


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("points", 0, "running_max"), "data/points/0/running_max"),
        (("points", 1, "running_min"), "data/points/1/running_min"),
        (("predicted", "intervals", "avg"), "data/predicted/intervals/avg"),
        (("predicted", "intervals"), "data/predicted/intervals"),
    ],
)
def test_null_for_a_distribution_is_refused_as_the_schema_refuses_it(
    path: tuple[str | int, ...], where: str
) -> None:
    """Not given is spelled by leaving the key out; null is not a band."""
    _, envelope = encode(factories.forecast_with_distributions(), factories.NOW)
    parent: Any = envelope["data"]
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = None
    payload = to_bytes(envelope)
    assert decode_fast(payload) is None
    with pytest.raises(MessageRejected, match=where):
        decode(payload)


def test_a_band_missing_a_quantile_is_refused() -> None:
    _, envelope = encode(factories.forecast_with_distributions(), factories.NOW)
    del envelope["data"]["points"][2]["running_max"]["upper_80"]
    with pytest.raises(MessageRejected, match="data/points/2/running_max"):
        decode(to_bytes(envelope))
