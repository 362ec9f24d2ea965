"""validate_sla: every wrong field reported at once, nothing half-built."""

import math

import pytest

from monitoring_core.errors import InvalidSla
from monitoring_core.sla import ObjectiveDraft, SlaDraft, SlaLimits, validate_sla

GOOD = ObjectiveDraft(
    selector='node_load1{instance="db-1:9100"}',
    lo=0.0,
    hi=4.0,
    target=0.99,
    window="12h",
    slice="1m",
)


def draft(*objectives: ObjectiveDraft, name: str = "web-tier") -> SlaDraft:
    return SlaDraft(name=name, objectives=objectives or (GOOD,))


def fields(bad: SlaDraft, limits: SlaLimits | None = None) -> dict[str, str]:
    with pytest.raises(InvalidSla) as caught:
        validate_sla(bad, limits)
    return caught.value.fields


def with_(**changes: object) -> ObjectiveDraft:
    values = {
        "selector": GOOD.selector,
        "lo": GOOD.lo,
        "hi": GOOD.hi,
        "target": GOOD.target,
        "window": GOOD.window,
        "slice": GOOD.slice,
    }
    values.update(changes)
    return ObjectiveDraft(**values)  # type: ignore[arg-type]


def test_a_good_draft_becomes_an_sla_with_parsed_durations() -> None:
    sla = validate_sla(draft(GOOD, with_(lo=None, window="1h", slice="30s")))
    first, second = sla.objectives
    assert (first.window_seconds, first.slice_seconds) == (43200, 60)
    assert (second.allowed.lo, second.allowed.hi) == (None, 4.0)
    assert first.selector.metric_name == "node_load1"
    assert sla.version == 0


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"lo": math.nan}, "objectives[0].lo", "finite"),
        ({"hi": math.inf}, "objectives[0].hi", "finite"),
        ({"lo": -math.inf}, "objectives[0].lo", "finite"),
        ({"lo": 5.0}, "objectives[0].lo", "above hi"),
        ({"lo": None, "hi": None}, "objectives[0].lo", "needs a bound"),
        ({"target": 0.0}, "objectives[0].target", "between 0 and 1"),
        ({"target": 1.0}, "objectives[0].target", "between 0 and 1"),
        ({"target": math.nan}, "objectives[0].target", "between 0 and 1"),
        ({"selector": "node_load1{"}, "objectives[0].selector", "selector"),
        ({"selector": '{job="node"}'}, "objectives[0].selector", "name a metric"),
        ({"selector": 'up{job=~"no.*"}'}, "objectives[0].selector", "exact"),
        ({"selector": 'up{job!="x"}'}, "objectives[0].selector", "exact"),
        ({"window": "12 hours"}, "objectives[0].window", "duration"),
        ({"window": ""}, "objectives[0].window", "duration"),
        ({"window": "100d"}, "objectives[0].window", "longer than"),
        ({"slice": "1s"}, "objectives[0].slice", "between"),
        ({"window": "61m", "slice": "2m"}, "objectives[0].window", "whole number"),
        ({"window": "35d", "slice": "10s"}, "objectives[0].slice", "longer slices"),
    ],
)
def test_each_bad_field_is_named(
    change: dict[str, object], field: str, reason: str
) -> None:
    found = fields(draft(with_(**change)))
    assert field in found and reason in found[field], found


def test_every_problem_is_reported_at_once() -> None:
    found = fields(
        draft(with_(lo=math.nan), with_(target=2.0, hi=None, lo=None), name="Bad Name")
    )
    assert set(found) == {
        "name",
        "objectives[0].lo",
        "objectives[1].target",
        "objectives[1].lo",
    }


def test_duplicates_are_refused_even_with_matchers_in_another_order() -> None:
    a = with_(selector='up{job="node",instance="a"}')
    b = with_(selector='up{instance="a",job="node"}', target=0.9)
    assert fields(draft(a, b)) == {"objectives[1]": "duplicates objectives[0]"}
    validate_sla(draft(a, with_(selector='up{instance="a",job="node"}', hi=5.0)))


def test_limits_on_objectives_names_and_selectors() -> None:
    limits = SlaLimits(max_objectives=2, max_selector_length=40)
    many = tuple(with_(hi=float(i + 1)) for i in range(3))
    assert "at most 2" in fields(draft(*many), limits)["objectives"]
    assert "at least one" in fields(SlaDraft(name="x", objectives=()))["objectives"]
    assert "longer than 63" in fields(draft(name="a" * 64))["name"]
    long = with_(selector='up{job="' + "x" * 40 + '"}')
    assert "longer than 40" in fields(draft(long), limits)["objectives[0].selector"]
    assert (
        "longer than"
        in fields(SlaDraft(name="x", objectives=(GOOD,), description="d" * 2000))[
            "description"
        ]
    )


@pytest.mark.parametrize("name", ["Web", "-web", "web-", "we b", "wéb", ""])
def test_names_are_dns_label_like(name: str) -> None:
    assert "name" in fields(draft(name=name))
