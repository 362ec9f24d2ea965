"""Reading query parameters into domain values, with a BadParameter per mistake."""

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta

import falcon

from adapters.rest.errors import BadParameter
from monitoring_core.durations import format_duration, parse_duration
from monitoring_core.errors import MonitoringError
from monitoring_core.selectors import Selector, parse_selector

SERIES_ID = re.compile(r"[0-9a-f]{16}")
_NUMBER = r"-?\d{1,12}(\.\d{1,9})?"
TIME = (
    rf"{_NUMBER}|\d{{4}}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d{{1,9}})?"
    r"([Zz]|[+-]\d\d:\d\d)"
)
"""What ``from`` and ``to`` look like (also the OpenAPI pattern)."""
DURATION = r"(\d{1,9}(ms|s|m|h|d|w|y))+"
"""What ``window`` looks like (also the OpenAPI pattern)."""


MAX_SELECTORS = 100
"""``match[]`` values per request: each is tested against every listed series."""


def integer(req: falcon.Request, name: str, default: int, maximum: int) -> int:
    """A whole number in ``1..maximum``."""
    raw = req.get_param(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw) or not 1 <= int(raw) <= maximum:
        raise BadParameter(name, f"must be a whole number from 1 to {maximum}")
    return int(raw)


def selectors(req: falcon.Request) -> list[Selector]:
    """Every ``match[]``; a series is chosen when any of them matches."""
    given = req.get_param_as_list("match[]") or []
    if len(given) > MAX_SELECTORS:
        raise BadParameter(
            "match[]",
            f"at most {MAX_SELECTORS} selectors per request, got {len(given)}",
        )
    found = []
    for raw in given:
        try:
            found.append(parse_selector(raw))
        except MonitoringError as exc:
            raise BadParameter("match[]", str(exc)) from exc
    return found


def encode_cursor(series_id: str) -> str:
    """An opaque cursor pointing after this series."""
    return base64.urlsafe_b64encode(series_id.encode()).decode().rstrip("=")


def cursor(req: falcon.Request) -> str | None:
    """The series id a ``cursor`` points after."""
    raw = req.get_param("cursor")
    if raw is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, ValueError) as exc:
        raise BadParameter("cursor", "is not a cursor this API returned") from exc
    if not SERIES_ID.fullmatch(decoded) or encode_cursor(decoded) != raw:
        raise BadParameter("cursor", "is not a cursor this API returned")
    return decoded


def moment(req: falcon.Request, name: str, default: datetime) -> datetime:
    """RFC 3339 or Unix seconds, as aware UTC."""
    raw = req.get_param(name)
    if raw is None:
        return default
    bad = BadParameter(name, "must be RFC 3339 with a time zone, or Unix seconds")
    if not re.fullmatch(TIME, raw):
        raise bad
    try:
        if re.fullmatch(_NUMBER, raw):
            return datetime.fromtimestamp(float(raw), UTC)
        return datetime.fromisoformat(raw.upper()).astimezone(UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise bad from exc


def span(
    req: falcon.Request, now: datetime, default: timedelta, longest: timedelta
) -> tuple[datetime, datetime]:
    """``from`` and ``to``: ordered and at most ``longest`` apart."""
    end = moment(req, "to", now)
    try:
        start = moment(req, "from", end - default)
    except OverflowError as exc:
        raise BadParameter("to", "is too early for the default span") from exc
    if start > end:
        raise BadParameter("from", "must not be after to")
    if end - start > longest:
        days = longest.total_seconds() / 86400
        raise BadParameter("from", f"the span from..to may be at most {days:g} days")
    return start, end


def window(req: falcon.Request, allowed: tuple[int, ...]) -> int | None:
    """An optional window length such as ``1h``, in seconds, one of ``allowed``."""
    raw = req.get_param("window")
    if raw is None:
        return None
    names = ", ".join(format_duration(w) for w in allowed)
    if not re.fullmatch(DURATION, raw):
        raise BadParameter("window", f"must be one of the windows {names}")
    try:
        seconds = parse_duration(raw)
    except MonitoringError as exc:
        raise BadParameter("window", str(exc)) from exc
    if seconds not in allowed:
        raise BadParameter(
            "window", f"{raw} is not a computed window; use one of {names}"
        )
    return seconds


def duration(req: falcon.Request, name: str, default: int, longest: int) -> int:
    """An optional duration such as ``24h``, in seconds, at most ``longest``."""
    raw = req.get_param(name)
    if raw is None:
        return default
    most = f"{longest / 86400:g} days"
    if not re.fullmatch(DURATION, raw):
        raise BadParameter(
            name, f"must be a duration such as 1h or 24h, at most {most}"
        )
    try:
        seconds = parse_duration(raw)
    except MonitoringError as exc:
        raise BadParameter(name, str(exc)) from exc
    if seconds > longest:
        raise BadParameter(name, f"may be at most {most}")
    return seconds
