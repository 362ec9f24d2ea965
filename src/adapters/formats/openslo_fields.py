"""Strict reading of one OpenSLO mapping: every problem names its field path."""

import math
import re
from typing import Any

import attrs

from adapters.formats.openslo import ALLOW_PENDING, OpenSloError

_SHORTHAND = re.compile(r"([1-9][0-9]*)([mhdwMQY])")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@attrs.frozen
class Fields:
    """One mapping of a document: ``label`` names the document, ``path`` the
    mapping inside it (``spec.objectives[0].``)."""

    label: str
    path: str
    data: dict[str, Any]

    def error(self, key: str, why: str) -> OpenSloError:
        """``documents[2] (SLO "x"): spec.budgetingMethod 'Occurrences': why``."""
        value = f" {_shown(self.data[key])}" if key in self.data else ""
        return OpenSloError(f"{self.label}: {self.path}{key}{value}: {why}")

    def only(self, *keys: str) -> None:
        """Refuse a key outside ``keys``: an SLA would not keep it."""
        for key in self.data:
            if key not in keys:
                raise OpenSloError(
                    f"{self.label}: {self.path}{key}: not read (an SLA cannot hold "
                    f"it; the fields read here are {', '.join(keys)})"
                )

    def _get(self, key: str) -> object:
        if key not in self.data:
            raise OpenSloError(f"{self.label}: {self.path}{key}: missing")
        return self.data[key]

    def text(self, key: str) -> str:
        """A required text."""
        value = self._get(key)
        if not isinstance(value, str):
            raise self.error(key, "must be text")
        return value

    def number(self, key: str) -> float:
        """A required finite number."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, "must be a number")
        if not math.isfinite(value):
            raise self.error(key, "must be finite")
        return float(value)

    def child(self, key: str) -> "Fields":
        """A required mapping."""
        value = self._get(key)
        if not isinstance(value, dict):
            raise self.error(key, "must be a mapping")
        return Fields(self.label, f"{self.path}{key}.", value)

    def one(self, key: str) -> "Fields":
        """A required list of exactly one mapping."""
        value = self._get(key)
        if not isinstance(value, list) or len(value) != 1:
            raise self.error(key, "must list exactly one item (one per SLO)")
        if not isinstance(value[0], dict):
            raise self.error(key, "must list a mapping")
        return Fields(self.label, f"{self.path}{key}[0].", value[0])

    def window(self, key: str) -> str:
        """A duration shorthand in m, h, d or w, as the SLA writes it."""
        text = self.text(key)
        found = _SHORTHAND.fullmatch(text)
        if not found:
            raise self.error(key, "must be a duration such as 30d or 12h")
        if found.group(2) not in _SECONDS:
            raise self.error(key, "months, quarters and years vary; use d or w")
        return text

    def slice_window(self, key: str) -> int:
        """Seconds of a shorthand or of a number of minutes (the v1 unit)."""
        value = self._get(key)
        if isinstance(value, str):
            text = self.window(key)
            return int(text[:-1]) * _SECONDS[text[-1]]
        seconds = self.number(key) * 60
        if seconds <= 0 or not math.isclose(seconds, round(seconds), abs_tol=1e-6):
            raise self.error(key, "must be a positive whole number of seconds")
        return round(seconds)

    def allow_pending(self) -> bool:
        """The one annotation read, ``"true"`` or ``"false"``."""
        self.only(ALLOW_PENDING)
        value = self.data.get(ALLOW_PENDING, "false")
        if value not in ("true", "false"):
            raise self.error(ALLOW_PENDING, 'must be "true" or "false"')
        return bool(value == "true")
