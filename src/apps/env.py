"""Reading ``MONITORING_*`` settings, collecting one clear message per bad value."""

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from monitoring_core.durations import parse_duration
from monitoring_core.errors import MonitoringError
from monitoring_core.selectors import Selector, parse_selector_list

T = TypeVar("T")


class ConfigError(MonitoringError):
    """One or more settings are invalid; the message lists every one on one line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration: " + "; ".join(problems))
        self.problems = problems


class Env:
    """Typed access to environment variables that remembers every problem."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self.errors: list[str] = []

    def _read(
        self, name: str, default: str, parse: Callable[[str], T], fallback: T
    ) -> T:
        raw = self._environ.get(name, default)
        try:
            return parse(raw)
        except (ValueError, MonitoringError) as exc:
            self.errors.append(f"{name}={raw!r}: {exc}")
            return fallback

    def text(
        self, name: str, default: str, pattern: str = ".*", meaning: str = ""
    ) -> str:
        """A string that must match ``pattern`` entirely."""

        def check(raw: str) -> str:
            if not re.fullmatch(pattern, raw):
                raise ValueError(f"must be {meaning or pattern}")
            return raw

        return self._read(name, default, check, default)

    def integer(
        self, name: str, default: int, minimum: int = 1, maximum: int = 2**31
    ) -> int:
        """A whole number within bounds."""

        def check(raw: str) -> int:
            value = int(raw)
            if not minimum <= value <= maximum:
                raise ValueError(f"must be between {minimum} and {maximum}")
            return value

        return self._read(name, str(default), check, default)

    def duration(self, name: str, default: str) -> int:
        """A duration such as ``10m``, in seconds."""
        return self._read(name, default, parse_duration, parse_duration(default))

    def durations(self, name: str, default: str) -> tuple[int, ...]:
        """A comma-separated list of durations, sorted, without repeats."""

        def check(raw: str) -> tuple[int, ...]:
            parts = [parse_duration(p) for p in raw.split(",") if p.strip()]
            if not parts:
                raise ValueError("needs at least one duration, e.g. 1h,3h,12h")
            return tuple(sorted(set(parts)))

        return self._read(name, default, check, ())

    def selectors(self, name: str, default: str) -> tuple[Selector, ...]:
        """PromQL selectors separated by ``;`` or newlines."""
        return self._read(name, default, lambda r: tuple(parse_selector_list(r)), ())

    def selectors_or_none(self, name: str) -> tuple[Selector, ...] | None:
        """Selectors, ``()`` for the word ``none``, None when unset or empty."""
        raw = self._environ.get(name, "").strip()
        if not raw:
            return None
        if raw.lower() == "none":
            return ()
        return self.selectors(name, raw)

    def url(self, name: str, default: str) -> str:
        """An http(s) URL with a host."""

        def check(raw: str) -> str:
            parts = urlsplit(raw)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http:// or https:// URL with a host")
            _ = parts.port  # raises ValueError for a port out of range
            return raw.rstrip("/")

        return self._read(name, default, check, default)

    def optional_url(self, name: str) -> str | None:
        """An http(s) URL as ``url`` reads it, or None when unset or empty."""
        if not self._environ.get(name, "").strip():
            return None
        return self.url(name, "")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        """One of a few words."""
        return self.text(
            name,
            default,
            "|".join(map(re.escape, choices)),
            "one of " + ", ".join(choices),
        )

    def flag(self, name: str, default: bool) -> bool:
        """``true``/``false`` (also 1/0, yes/no, on/off)."""
        words = {
            "true": True,
            "1": True,
            "yes": True,
            "on": True,
            "false": False,
            "0": False,
            "no": False,
            "off": False,
        }

        def check(raw: str) -> bool:
            if raw.strip().lower() not in words:
                raise ValueError("must be true or false")
            return words[raw.strip().lower()]

        return self._read(name, "true" if default else "false", check, default)

    def host(self, name: str, default: str) -> str:
        """An IPv4 or IPv6 address to listen on, such as ``127.0.0.1`` or ``::``."""

        def check(raw: str) -> str:
            try:
                return str(ipaddress.ip_address(raw.strip()))
            except ValueError:
                raise ValueError(
                    "must be an IP address such as 127.0.0.1, 0.0.0.0 or ::"
                ) from None

        return self._read(name, default, check, default)

    def raise_if_invalid(self) -> None:
        """Raise ConfigError listing every bad value read so far."""
        if self.errors:
            raise ConfigError(self.errors)
