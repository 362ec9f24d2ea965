"""How domain values become column values and back: times, floats, JSON, shards."""

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from monitoring_core.sharding import compact

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_SPELLING = {math.inf: "+Inf", -math.inf: "-Inf"}
_SPECIAL = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, truncated like the messages' RFC 3339 text."""
    return (moment - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds (exact: no float involved)."""
    return EPOCH + ms * _MS


_FIRST_SECOND, _PAST_LAST_SECOND = -62_135_596_800, 253_402_300_800
"""Unix times of 0001-01-01 and 10000-01-01, the range of ``datetime``."""


def unix_to_ms(seconds: float | None) -> int | None:
    """A Unix time in seconds as epoch milliseconds, or None.

    The same as ``to_ms(datetime.fromtimestamp(seconds, UTC))`` (microseconds
    rounded half to even, then truncated to milliseconds), computed without
    the datetime; outside its range, through it (which raises).
    """
    if seconds is None:
        return None
    if not _FIRST_SECOND <= seconds < _PAST_LAST_SECOND:
        return to_ms(datetime.fromtimestamp(seconds, UTC))
    fraction, whole = math.modf(seconds)
    micros = round(fraction * 1e6)  # round() on a float is half to even
    return int(whole) * 1000 + micros // 1000


def ms_to_unix(ms: int | None) -> float | None:
    """Epoch milliseconds as a Unix time in seconds, or None."""
    return None if ms is None else ms / 1000


def spell(value: float | None) -> float | str | None:
    """A float for JSON text: NaN and ±Inf spelled ``"NaN"``, ``"+Inf"``, ``"-Inf"``."""
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else _SPELLING[value]


def unspell(value: float | str | None) -> float | None:
    """The inverse of ``spell``."""
    if value is None:
        return None
    return _SPECIAL[value] if isinstance(value, str) else float(value)


def split_floats(values: Mapping[str, float | None]) -> dict[str, Any]:
    """Columns for floats: non-finite ones become NULL and are spelled in ``special``.

    MariaDB's DOUBLE cannot hold NaN or ±Inf, so the real value goes into a small
    JSON object beside the row, e.g. ``{"max": "+Inf"}``.
    """
    special = {
        k: spell(v) for k, v in values.items() if v is not None and not math.isfinite(v)
    }
    if not special:
        return {**values, "special": None}
    return {**values, **dict.fromkeys(special), "special": special_json(special)}


def json_number(value: float) -> str:
    """``to_json(spell(value))`` of one number, several times faster: the text
    ``json`` writes for a float (its repr), NaN and ±Inf spelled and quoted."""
    if value.__class__ is float:
        if math.isfinite(value):
            return float.__repr__(value)
        return '"NaN"' if math.isnan(value) else f'"{_SPELLING[value]}"'
    return to_json(spell(value))


def special_json(special: Mapping[str, float | str | None]) -> str:
    """``to_json`` of a ``special`` object, written directly (the same text,
    several times faster): its keys are column names and its values spellings,
    none of which JSON escapes."""
    pairs = ",".join([f'"{k}":"{special[k]}"' for k in sorted(special)])
    return "{" + pairs + "}"


def joined_floats(row: Any, names: Iterable[str]) -> dict[str, float | None]:
    """Float columns of a row, the non-finite ones restored from ``special``."""
    special = json.loads(row.special) if row.special else {}
    return {n: unspell(special[n]) if n in special else getattr(row, n) for n in names}


def required(value: float | None) -> float:
    """A float the domain requires; NULL without a ``special`` entry is corrupt."""
    if value is None:
        raise ValueError("a required number is NULL in the database")
    return value


def to_json(value: Any) -> str:
    """Compact, valid JSON text (sorted keys, so equal values give equal text)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)


def spelled_list(values: Iterable[float]) -> list[float | str | None]:
    """Floats ready for ``to_json``."""
    return [spell(v) for v in values]


def shards_text(shards: tuple[int, ...] | None) -> str | None:
    """Shards as compact ranges (``0-15,32``; ``-``: none), or NULL if unknown."""
    return None if shards is None else compact(shards)


def text_shards(text: str | None) -> tuple[int, ...] | None:
    """The inverse of ``shards_text``: ascending shards."""
    if text is None:
        return None
    if text == "-":
        return ()
    shards: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        shards.extend(range(int(first), int(last or first) + 1))
    return tuple(shards)
