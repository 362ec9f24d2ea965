"""PromQL selector parsing, printing and matching."""

import pytest

from monitoring_core.errors import InvalidSelector
from monitoring_core.selectors import MatchOp, parse_selector, parse_selector_list


def test_name_and_matchers_are_parsed() -> None:
    sel = parse_selector('node_load1{instance="db-1:9100", job=~"node.*"}')
    assert sel.metric_name == "node_load1"
    assert [(m.label, m.op, m.value) for m in sel.matchers] == [
        ("__name__", MatchOp.EQ, "node_load1"),
        ("instance", MatchOp.EQ, "db-1:9100"),
        ("job", MatchOp.RE, "node.*"),
    ]


def test_printed_selector_parses_back_to_the_same() -> None:
    for text in [
        "up",
        'a{b="c",d!~"e|f"}',
        '{__name__=~"node_.+",x!="y"}',
        'm{q="with \\"quote\\""}',
    ]:
        sel = parse_selector(text)
        assert parse_selector(sel.to_promql()) == sel


def test_regex_is_anchored_like_promql() -> None:
    sel = parse_selector('m{job=~"node"}')
    assert sel.matches("m", {"job": "node"})
    assert not sel.matches("m", {"job": "node-exporter"})


def test_exact_matcher_never_matches_a_substring() -> None:
    sel = parse_selector('node_load1{instance="db-1"}')
    assert not sel.matches("node_load15", {"instance": "db-1"})
    assert not sel.matches("node_load1", {"instance": "db-10"})


def test_absent_label_is_the_empty_string() -> None:
    assert parse_selector('m{env=""}').matches("m", {})
    assert not parse_selector('m{env!=""}').matches("m", {})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{}",
        'm{a="b"',
        "m{a=b}",
        '9m{a="b"}',
        'm{a=~"("}',
        '{a=~".*"}',
        'm{__name__="x"}',
    ],
)
def test_malformed_selectors_are_rejected_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidSelector) as err:
        parse_selector(text)
    assert str(err.value)


def test_selector_lists_split_on_semicolons_and_newlines() -> None:
    found = parse_selector_list('a{x="1;2"}; b\nc')
    assert [s.metric_name for s in found] == ["a", "b", "c"]
