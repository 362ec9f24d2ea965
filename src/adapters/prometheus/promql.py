"""PromQL the Prometheus adapter sends: many series and statistics per query."""

import re
from collections.abc import Sequence

from monitoring_core.selectors import Matcher, MatchOp, Selector
from monitoring_core.series import ValueKind

STAT_LABEL = "__monitoring_stat"
"""Label that tags each part of a combined query with the statistic it holds."""

NAME_LABEL = "__monitoring_name"
"""Label that carries the metric name: ``or`` matches label sets *without*
``__name__``, so two metrics with equal labels would otherwise collide."""

STAT_FUNCTIONS = {
    "min": "min_over_time",
    "max": "max_over_time",
    "avg": "avg_over_time",
    "stddev": "stddev_over_time",
    "count": "count_over_time",
    "last": "last_over_time",
}


def _set_label(expr: str, label: str, value: str) -> str:
    # An empty source label matches the empty regex, so this always sets `label`.
    return f'label_replace({expr}, "{label}", "{value}", "", "")'


def series_expr(
    selector: Selector, kind: ValueKind, rate_seconds: int, native: bool = False
) -> str:
    """The instant vector analysed: the value itself or its per-second rate.

    A native histogram's rate is a histogram; its observations per second are
    ``histogram_count`` of it (ADR 0016).
    """
    if kind is ValueKind.PER_SECOND_RATE:
        rate = f"rate({selector.to_promql()}[{rate_seconds}s])"
        return f"histogram_count({rate})" if native else rate
    return selector.to_promql()


def range_expr(
    selector: Selector,
    kind: ValueKind,
    window: int,
    rate_seconds: int,
    resolution: int,
    native: bool = False,
) -> str:
    """The range vector of one window: raw samples, or a rate subquery."""
    if kind is ValueKind.PER_SECOND_RATE:
        rate = series_expr(selector, kind, rate_seconds, native)
        return f"{rate}[{window}s:{resolution}s]"
    return f"{selector.to_promql()}[{window}s]"


def stat_terms(
    name: str,
    selector: Selector,
    kind: ValueKind,
    windows: Sequence[int],
    rate_seconds: int,
    resolution: int,
    native: bool = False,
) -> list[str]:
    """Every statistic of every window of one metric, each tagged and named.

    ``*_over_time`` drops the metric name, so each term carries it in
    ``NAME_LABEL`` and adds ``STAT_LABEL="<stat>:<window>"``; the terms then
    never collide.
    """
    terms = []
    for window in windows:
        rng = range_expr(selector, kind, window, rate_seconds, resolution, native)
        for stat, function in STAT_FUNCTIONS.items():
            tagged = _set_label(f"{function}({rng})", STAT_LABEL, f"{stat}:{window}")
            terms.append(_set_label(tagged, NAME_LABEL, name))
    last_ts = _set_label(f"timestamp({selector.to_promql()})", STAT_LABEL, "last_ts")
    terms.append(_set_label(last_ts, NAME_LABEL, name))
    return terms


def history_term(
    name: str,
    selector: Selector,
    kind: ValueKind,
    rate_seconds: int,
    native: bool = False,
) -> str:
    """The series (or its rate) with its metric name kept in ``NAME_LABEL``."""
    expr = series_expr(selector, kind, rate_seconds, native)
    return _set_label(expr, NAME_LABEL, name)


def names_selector(names: Sequence[str], labels: Sequence[tuple[str, str]]) -> Selector:
    """Series of any of these metrics with these exact labels.

    Metric names hold only ``[a-zA-Z0-9_:]``, so the alternation needs no escaping.
    """
    name = (
        Matcher("__name__", MatchOp.EQ, names[0])
        if len(names) == 1
        else Matcher("__name__", MatchOp.RE, "|".join(sorted(names)))
    )
    return Selector((name, *(Matcher(k, MatchOp.EQ, v) for k, v in labels)))


def union(terms: Sequence[str]) -> str:
    """Join terms with ``or`` as a balanced tree, so the cost stays linear."""
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return f"({union(terms[:middle])}) or ({union(terms[middle:])})"


_RE2_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def _re2_escape(value: str) -> str:
    """A literal for Prometheus' RE2 (which refuses a backslash before a space
    or a letter, as Python's ``re.escape`` may put them)."""
    return _RE2_SPECIAL.sub(r"\\\1", value)


def any_of(label: str, values: Sequence[str]) -> Matcher:
    """``label=~"a|b"``: the label has one of these exact values (an empty
    value also matches series without the label)."""
    return Matcher(label, MatchOp.RE, "|".join(_re2_escape(v) for v in values))


def merged_selectors(selectors: Sequence[Selector]) -> list[tuple[Selector, list[int]]]:
    """Selectors read together: one per metric name and set of labels.

    Selectors of one metric name whose other matchers are all ``=`` on the
    same labels become one, each label matched against the alternation of the
    values (``name{instance=~"a|b"}``); it may select more series than the
    selectors together (``{a="1",b="2"}`` and ``{a="3",b="4"}`` also select
    ``{a="1",b="4"}``), so each answer is handed to the selectors that match
    it. Any other selector stays alone.

    Returns:
        ``(selector to read, indexes of the selectors it stands for)``.
    """
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    alone: list[tuple[Selector, list[int]]] = []
    for index, selector in enumerate(selectors):
        name = selector.metric_name
        others = [m for m in selector.matchers if m.label != "__name__"]
        if name is None or any(m.op is not MatchOp.EQ for m in others):
            alone.append((selector, [index]))
            continue
        labels = tuple(sorted(m.label for m in others))
        if len(set(labels)) != len(labels):
            alone.append((selector, [index]))
            continue
        groups.setdefault((name, labels), []).append(index)
    out = []
    for (name, labels), indexes in groups.items():
        if len(indexes) == 1:
            out.append((selectors[indexes[0]], indexes))
            continue
        matchers = [Matcher("__name__", MatchOp.EQ, name)]
        for label in labels:
            values = sorted(
                {
                    m.value
                    for i in indexes
                    for m in selectors[i].matchers
                    if m.label == label
                }
            )
            matchers.append(any_of(label, values))
        out.append((Selector(tuple(matchers)), indexes))
    return out + alone
