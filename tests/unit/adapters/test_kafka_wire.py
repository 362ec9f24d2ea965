"""The msgspec Structs accept exactly what the published JSON Schemas accept.

``decoding`` takes a fast path through the Structs of ``adapters.kafka.wire``
and falls back to the checked path (``json.loads`` + the compiled JSON Schema)
for anything the Structs refuse. Proven here, message by message:

- on the sample and poison corpora (every result type, the poison of the
  storage service's tests, the malformed messages of the decoding tests), the
  Structs accept exactly the messages that the JSON Schemas accept;
- on thousands of mutations of the samples (every field removed, retyped,
  out of range, or joined by an unknown one; odd times and odd JSON), whatever
  the fast path accepts the JSON Schemas accept too, and it decodes to the very
  result the checked path builds; ``decode`` gives the checked path's verdict
  and reason on every message.
"""

import copy
import json
import math
from collections.abc import Iterator
from functools import cache
from typing import Any

import msgspec
import pytest

from adapters.kafka import wire
from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.decoding import (
    MessageRejected,
    _checked,
    decode,
    decode_fast,
)
from monitoring_core.forecasts import Forecast
from monitoring_core.ports import Result
from monitoring_core.series import MetricKind
from tests.integration.test_storage_service import POISON
from tests.support import factories
from tests.support.schemas import TYPES, validator
from tests.unit.adapters.test_kafka_decoding import _message

SAMPLES = [to_bytes(encode(r, factories.NOW)[1]) for r in factories.every_result()]
MALFORMED = [
    b"{not json",
    b"\xff\xfe",
    b"[1, 2]",
    _message(schema=2),
    _message(type="gossip"),
    _message(data={"mae": 1}),
    _message(series={"id": "0000000000000000", "name": "node_load1", "labels": {}}),
]
CORPUS = SAMPLES + MALFORMED + [p for p in POISON if len(p) < 524_288]

TIMES = [
    "2026-11-26T12:00:00Z",
    "2026-11-26T12:00:00.123456789Z",
    "2026-11-26T12:00:00.Z",
    "2026-11-26T12:00:00",
    "2026-11-26T12:00:00+00:00",
    "2026-11-26t12:00:00z",
    "2026-11-26T12:00:00Z\n",
    "2026-11-26 12:00:00Z",
    "2026-13-26T12:00:00Z",
    "2026-02-29T12:00:00Z",
    "2028-02-29T12:00:00Z",
    "2026-11-26T24:00:00Z",
    "2026-11-26T12:00:60Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "\u0662\u0660\u0662\u0666-11-26T12:00:00Z",
]
VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2,
    60,
    0.5,
    1.0,
    -0.0,
    1.5,
    2**70,
    "",
    "x",
    "NaN",
    "+Inf",
    "-Inf",
    "nan",
    "Infinity",
    "gauge",
    "counter",
    "value",
    "stationary",
    "publish",
    "0123456789abcdef",
    [],
    [1],
    {},
    {"extra": 1},
    *TIMES[:3],
    TIMES[8],
]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(root)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return changed


def _delete(root: Any, path: tuple[Any, ...]) -> Any:
    changed = copy.deepcopy(root)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return changed


def _mutations(envelope: dict[str, Any]) -> Iterator[Any]:
    for path in _paths(envelope):
        node: Any = envelope
        for step in path:
            node = node[step]
        if path:
            yield _delete(envelope, path)
        values = TIMES if isinstance(node, str) and node[:2] == "20" else VALUES
        for value in values:
            yield _set(envelope, path, value)
        if isinstance(node, dict):
            yield _set(envelope, path, {**node, "unknown": 1})
        if isinstance(node, list) and node:
            yield _set(envelope, path, [*node, node[0]])
            yield _set(envelope, path, [])


def _raw_mutations(payload: bytes) -> Iterator[bytes]:
    text = payload.decode()
    yield payload + b" "
    yield b" \n" + payload
    yield payload + b"x"
    yield payload + b"{}"
    yield b"\xef\xbb\xbf" + payload
    yield text.encode("utf-16")
    yield text.replace('"schema":1', '"schema":1,"schema":2').encode()
    yield text.replace('"schema":1', '"schema":2,"schema":1').encode()
    yield text.replace('"schema":1', '"schema":1.0').encode()
    yield text.replace('"schema":1', '"s\\u0063hema":1').encode()
    kind = json.loads(payload)["type"]
    yield text.replace(f'"type":"{kind}"', f'"type":"{kind}","type":"{kind}"').encode()
    for number in ("NaN", "Infinity", "-Infinity", "1e400", "-0", "1E2", "0.1e-5"):
        changed = text.replace(":0.5", f":{number}", 1).replace(
            ":1.0,", f":{number},", 1
        )
        yield changed.encode()
    yield text.replace('"host"', '"ho\\u0073t"').encode()
    yield text.replace('"node_load1"', '"node\\ud800"').encode()


def _mutated_corpus() -> list[bytes]:
    out: list[bytes] = []
    for sample in SAMPLES:
        envelope = json.loads(sample)
        for changed in _mutations(envelope):
            out.append(json.dumps(changed).encode())
        out.extend(_raw_mutations(sample))
    return out


MUTATED = _mutated_corpus()


@cache
def _schema_accepts(payload: bytes) -> bool:
    """The published contract: JSON whose ``type`` names a schema it validates
    against (formats included)."""
    try:
        body = json.loads(payload)
    except ValueError:
        return False
    if not isinstance(body, dict) or body.get("type") not in TYPES:
        return False
    return bool(validator(body["type"]).is_valid(body))


def _struct_accepts(payload: bytes) -> bool:
    try:
        wire.decoder.decode(payload)
    except msgspec.DecodeError:
        return False
    return True


def _comparable(result: Result) -> Any:
    """NaN never equals itself: compare the re-encoded messages."""
    return encode(result, factories.NOW)[1]


@cache
def _checked_verdict(payload: bytes) -> tuple[str, Any]:
    try:
        return "accepted", _comparable(_checked(payload))
    except MessageRejected as exc:
        return "rejected", str(exc)


def test_the_mutations_cover_accepted_and_rejected_messages_of_every_type() -> None:
    assert len(MUTATED) > 3000
    accepted = [m for m in MUTATED if _schema_accepts(m)]
    assert 300 < len(accepted) < len(MUTATED) - 2000
    kinds = {json.loads(m)["type"] for m in accepted}
    assert kinds == set(TYPES)


@pytest.mark.parametrize("payload", CORPUS, ids=range(len(CORPUS)))
def test_structs_accept_exactly_what_the_schemas_accept_on_the_corpora(
    payload: bytes,
) -> None:
    assert _struct_accepts(payload) == _schema_accepts(payload)


def test_every_sample_takes_the_fast_path_to_the_same_result() -> None:
    for sample, result in zip(SAMPLES, factories.every_result(), strict=True):
        fast = decode_fast(sample)
        assert fast is not None
        assert _comparable(fast) == _comparable(result)


def test_what_the_fast_path_accepts_the_schemas_accept_with_the_same_result() -> None:
    fast_accepted = 0
    for payload in MUTATED:
        fast = decode_fast(payload)
        if fast is None:
            continue
        fast_accepted += 1
        assert _schema_accepts(payload), payload
        assert _checked_verdict(payload) == ("accepted", _comparable(fast)), payload
    assert fast_accepted > 300


def test_decode_gives_the_checked_paths_verdict_and_reason_on_every_message() -> None:
    for payload in CORPUS + MUTATED:
        try:
            got: tuple[str, Any] = ("accepted", _comparable(decode(payload)))
        except MessageRejected as exc:
            got = ("rejected", str(exc))
        assert got == _checked_verdict(payload), payload


def test_the_fast_path_leaves_few_valid_messages_to_the_checked_one() -> None:
    """Where the fast path is stricter than the schemas (JSON ``1.0`` for an
    integer, bare NaN/Infinity tokens, integers beyond 64 bits, non-UTF-8 text,
    year 0), the message goes the checked way: correct, only slower."""
    valid = [m for m in MUTATED if _checked_verdict(m)[0] == "accepted"]
    slow = [m for m in valid if decode_fast(m) is None]
    assert len(slow) < 0.1 * len(valid), slow[:5]


def test_special_numbers_decode_to_nan_and_infinities() -> None:
    fast = decode_fast(SAMPLES[0])
    assert fast is not None
    first = fast.windows[0]  # type: ignore[union-attr]
    assert math.isnan(first.last) and first.max == math.inf


def test_a_forecast_published_before_kinds_existed_is_still_accepted_as_a_gauge() -> (
    None
):
    """A storage service upgraded before its ETL must not dead-letter old forecasts."""
    _, envelope = encode(factories.forecast(), factories.NOW)
    del envelope["data"]["kind"]
    del envelope["data"]["value_kind"]
    old = to_bytes(envelope)
    assert _schema_accepts(old)
    fast, checked = decode_fast(old), _checked(old)
    assert fast is not None
    assert _comparable(fast) == _comparable(checked)
    assert isinstance(checked, Forecast)
    assert checked.kind is MetricKind.GAUGE
    assert checked.points == factories.forecast().points
