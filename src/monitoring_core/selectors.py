"""PromQL series selectors (``name{label="v", other=~"re"}``): parse, print, match."""

import re
from collections.abc import Mapping
from enum import StrEnum

import attrs

from monitoring_core.errors import InvalidSelector

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_STRING = r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'"
_MATCHER = re.compile(rf"\s*({_LABEL})\s*(=~|!~|!=|=)\s*({_STRING})\s*(,|$)")
_SELECTOR = re.compile(rf"^\s*({_NAME})?\s*(?:\{{(.*)\}})?\s*$", re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)")
# A list item: quoted strings (which may hold ';') or any other non-separator.
_SEPARATED = re.compile(rf"(?:{_STRING}|[^;\n\"'])+")


class MatchOp(StrEnum):
    """The four PromQL label match operators."""

    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


@attrs.frozen
class Matcher:
    """One label matcher; regular expressions are anchored as in PromQL."""

    label: str
    op: MatchOp
    value: str

    def __attrs_post_init__(self) -> None:
        if self.op in (MatchOp.RE, MatchOp.NRE):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise InvalidSelector(
                    f"bad regular expression {self.value!r} for label {self.label}: "
                    f"{exc}"
                ) from exc

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` when absent) satisfies this matcher."""
        if self.op is MatchOp.EQ:
            return value == self.value
        if self.op is MatchOp.NE:
            return value != self.value
        found = re.fullmatch(self.value, value) is not None
        return found if self.op is MatchOp.RE else not found

    def to_promql(self) -> str:
        """Print as PromQL, with the value quoted and escaped."""
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.label}{self.op.value}"{escaped}"'


@attrs.frozen
class Selector:
    """A series selector: a conjunction of matchers, ``__name__`` among them."""

    matchers: tuple[Matcher, ...]

    def __attrs_post_init__(self) -> None:
        if not any(m.matches("") is False for m in self.matchers):
            raise InvalidSelector(
                "a selector needs a metric name or a matcher that does not match "
                "the empty string"
            )

    @property
    def metric_name(self) -> str | None:
        """The metric name when the selector fixes it with ``__name__="x"``."""
        for m in self.matchers:
            if m.label == "__name__" and m.op is MatchOp.EQ:
                return m.value
        return None

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        """Whether a series with this name and labels is selected."""
        return all(
            m.matches(name if m.label == "__name__" else labels.get(m.label, ""))
            for m in self.matchers
        )

    def for_metric(self, name: str) -> "Selector":
        """The same selector narrowed to one metric name."""
        rest = tuple(m for m in self.matchers if m.label != "__name__")
        return Selector((Matcher("__name__", MatchOp.EQ, name), *rest))

    def to_promql(self) -> str:
        """Print as PromQL: ``name{a="b"}`` or ``{__name__=~"x", a="b"}``."""
        name = self.metric_name
        others = [m for m in self.matchers if not (name and m.label == "__name__")]
        if name is not None and re.fullmatch(_NAME, name):
            inner = ",".join(m.to_promql() for m in others if m.label != "__name__")
            return f"{name}{{{inner}}}" if inner else name
        return "{" + ",".join(m.to_promql() for m in self.matchers) + "}"


EVERY_SERIES = Selector((Matcher("__name__", MatchOp.RE, ".+"),))


def _unquote(literal: str) -> str:
    return _UNESCAPE.sub(
        lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), literal[1:-1]
    )


def _parse_matchers(body: str, text: str) -> list[Matcher]:
    matchers: list[Matcher] = []
    pos, body = 0, body.strip()
    while pos < len(body):
        found = _MATCHER.match(body, pos)
        if found is None:
            raise InvalidSelector(
                f"cannot parse label matchers in {text!r} near {body[pos : pos + 20]!r}"
            )
        label, op, literal, _ = found.groups()
        matchers.append(Matcher(label, MatchOp(op), _unquote(literal)))
        pos = found.end()
    return matchers


def parse_selector(text: str) -> Selector:
    """Parse a PromQL series selector.

    Args:
        text: e.g. ``node_load1{instance="db-1:9100"}`` or ``{job=~"node.*"}``.

    Returns:
        The parsed selector.

    Raises:
        InvalidSelector: with a message that says what is wrong.
    """
    found = _SELECTOR.match(text)
    if found is None or not text.strip():
        raise InvalidSelector(f"{text!r} is not a PromQL series selector")
    name, body = found.groups()
    matchers = _parse_matchers(body or "", text)
    if name:
        if any(m.label == "__name__" for m in matchers):
            raise InvalidSelector(f"{text!r} names the metric twice")
        matchers.insert(0, Matcher("__name__", MatchOp.EQ, name))
    return Selector(tuple(matchers))


def parse_selector_list(text: str) -> list[Selector]:
    """Parse selectors separated by ``;`` or newlines; empty text gives none."""
    parts = [p for p in _SEPARATED.findall(text) if p.strip()]
    return [parse_selector(p) for p in parts]
