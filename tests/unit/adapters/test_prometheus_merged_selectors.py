"""Selectors read together by the Prometheus sample source (ADR 0046)."""

from adapters.prometheus.promql import merged_selectors
from monitoring_core.selectors import Matcher, MatchOp, Selector, parse_selector

ODD = ["a.b", "x|y", "(z)", "back\\slash", 'q"uote', "sp ace", "[s]{1}^$*+?"]


def test_selectors_of_one_name_and_the_same_labels_become_one() -> None:
    texts = [
        'up{instance="a",job="x"}',
        'up{instance="b",job="y"}',
        'up{instance="c"}',
        'down{instance="a",job="x"}',
        'up{instance=~"a.*"}',
        '{__name__=~"up|down"}',
    ]
    groups = merged_selectors([parse_selector(t) for t in texts])
    assert sorted(indexes for _, indexes in groups) == [[0, 1], [2], [3], [4], [5]]
    merged = next(s for s, indexes in groups if indexes == [0, 1])
    # It selects what either selects, and the cross product besides.
    for name, labels in [
        ("up", {"instance": "a", "job": "x"}),
        ("up", {"instance": "b", "job": "y"}),
        ("up", {"instance": "a", "job": "y"}),
    ]:
        assert merged.matches(name, labels)
    assert not merged.matches("up", {"instance": "c", "job": "x"})
    assert not merged.matches("down", {"instance": "a", "job": "x"})


def test_label_values_are_matched_literally() -> None:
    selectors = [
        Selector((Matcher("__name__", MatchOp.EQ, "m"), Matcher("v", MatchOp.EQ, v)))
        for v in ODD
    ]
    [(merged, indexes)] = merged_selectors(selectors)
    assert indexes == list(range(len(ODD)))
    for value in ODD:
        assert merged.matches("m", {"v": value}), value
    for other in ["ab", "x", "z", "sp", "s", "a_b"]:
        assert not merged.matches("m", {"v": other}), other


def test_a_lone_selector_is_read_as_it_is() -> None:
    selector = parse_selector('up{job="x"}')
    assert merged_selectors([selector]) == [(selector, [0])]
