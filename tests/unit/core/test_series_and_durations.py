"""Series identity and durations."""

import hashlib

import pytest

from monitoring_core.durations import format_duration, parse_duration
from monitoring_core.errors import InvalidDuration
from monitoring_core.series import SeriesKey


def test_id_depends_on_the_full_label_set_not_on_label_order() -> None:
    a = SeriesKey.of("up", {"job": "node", "instance": "a:9100"})
    b = SeriesKey.from_prometheus(
        {"instance": "a:9100", "__name__": "up", "job": "node"}
    )
    c = SeriesKey.of("up", {"job": "node", "instance": "b:9100"})
    assert a == b and a.id == b.id
    assert a.id != c.id
    assert len(a.id) == 16


def test_canonical_form_escapes_quotes_so_ids_cannot_collide() -> None:
    tricky = SeriesKey.of("m", {"a": 'x",b="y'})
    plain = SeriesKey.of("m", {"a": "x", "b": "y"})
    assert tricky.canonical == 'm{a="x\\",b=\\"y"}'
    assert tricky.id != plain.id


def test_id_is_the_sha256_prefix_of_the_canonical_form() -> None:
    # Pinned independently: ids are stored in databases and must never change.
    expected = hashlib.sha256(b'up{job="x"}').hexdigest()[:16]
    assert SeriesKey.of("up", {"job": "x"}).id == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("1h30m", 5400), ("12h", 43200), ("7d", 604800)],
)
def test_durations_parse_and_format(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "10", "1x", "-5m", "0s", "500ms", "1h 2"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)
