"""Prometheus-style durations (``90s``, ``10m``, ``1h30m``) as whole seconds."""

import re

from monitoring_core.errors import InvalidDuration

_UNITS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 604800,
    "y": 31536000,
}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_ORDER = ("y", "w", "d", "h", "m", "s")


def parse_duration(text: str) -> int:
    """Parse a Prometheus duration into whole seconds.

    Args:
        text: e.g. ``"1h"``, ``"10m"``, ``"1h30m"``.

    Returns:
        The duration in seconds, always positive.

    Raises:
        InvalidDuration: when the text is empty, malformed or not a whole second.
    """
    cleaned = text.strip()
    if not cleaned or _PART.sub("", cleaned):
        raise InvalidDuration(f"{text!r} is not a duration such as 90s, 10m or 1h")
    total = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if total <= 0 or total != int(total):
        raise InvalidDuration(f"{text!r} must be a positive whole number of seconds")
    return int(total)


def format_duration(seconds: int) -> str:
    """Format seconds the way Prometheus writes durations (``3600`` -> ``1h``)."""
    if seconds <= 0:
        raise InvalidDuration(f"{seconds} is not a positive duration")
    parts = []
    remaining = seconds
    for unit in _ORDER:
        size = int(_UNITS[unit])
        if remaining >= size:
            parts.append(f"{remaining // size}{unit}")
            remaining %= size
    return "".join(parts)
