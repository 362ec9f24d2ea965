"""OpenSLO in and out (issue 14): round trips, the v1 schemas, and refusals.

Every document exported for the SLAs of ``examples/`` and of the tests validates
against the OpenSLO v1 JSON schemas; reading them back gives the same SLA; what
either side cannot hold is refused in one line naming the field.
"""

import copy
from typing import Any

import pytest
import yaml

from adapters.formats.openslo import (
    OpenSloError,
    good_query,
    to_openslo_v1,
    total_query,
)
from adapters.formats.openslo_reading import drafts_from_openslo
from adapters.formats.openslo_v1alpha import to_openslo_v1alpha
from adapters.grpc.convert import draft_from_message
from apps.sla.sla_files import read_slas
from monitoring_core.sla import ObjectiveDraft, Sla, SlaDraft, validate_sla
from tests.support.openslo import example_paths, mapping_slas, openslo_v1_validator

Documents = list[dict[str, Any]]


def _every_sla() -> list[Sla]:
    found = [
        validate_sla(draft_from_message(d.sla))
        for path in example_paths()
        for d in read_slas(str(path))
    ]
    return found + mapping_slas()


SLAS = _every_sla()
IDS = [s.name for s in SLAS]


def _through_yaml(documents: Documents) -> Documents:
    loaded = yaml.safe_load_all(yaml.safe_dump_all(documents, sort_keys=False))
    return list(loaded)


def _read(documents: Documents) -> list[Sla]:
    drafts = drafts_from_openslo(list(enumerate(_through_yaml(documents))))
    return [validate_sla(draft) for _, draft in drafts]


def test_the_examples_are_among_the_slas_mapped() -> None:
    assert {"node-health", "db-fleet", "edge.v2-cases", "sloth-days"} <= set(IDS)


@pytest.mark.parametrize("sla", SLAS, ids=IDS)
def test_every_exported_document_is_valid_openslo_v1(sla: Sla) -> None:
    documents = to_openslo_v1(sla)
    assert [d["kind"] for d in documents] == ["Service"] + ["SLI", "SLO"] * len(
        sla.objectives
    )
    validator = openslo_v1_validator()
    for document in _through_yaml(documents):
        errors = [e.message for e in validator.iter_errors(document)]
        assert errors == [], (document["metadata"]["name"], errors)


@pytest.mark.parametrize("sla", SLAS, ids=IDS)
def test_export_then_apply_gives_the_same_sla(sla: Sla) -> None:
    (back,) = _read(to_openslo_v1(sla))
    assert back.same_definition(sla)
    assert back.objectives == sla.objectives


def test_the_validator_does_refuse_a_broken_document() -> None:
    (sla,) = [s for s in SLAS if s.name == "db-fleet"]
    slo = copy.deepcopy(to_openslo_v1(sla)[2])
    slo["spec"]["budgetingMethod"] = "Timeslices"
    del slo["spec"]["objectives"][0]["timeSliceWindow"]
    assert list(openslo_v1_validator().iter_errors(slo))


def test_a_two_sided_range_is_one_ratio_sli_of_good_slices() -> None:
    (sla,) = [s for s in SLAS if s.name == "db-fleet"]
    sli = to_openslo_v1(sla)[1]["spec"]["ratioMetric"]
    selector = 'db_connections{cluster="db-1"}'
    assert sli["good"]["metricSource"]["spec"]["query"] == (
        f"(max_over_time({selector}[1m] offset 1ms) <= bool 50.0) * "
        f"(min_over_time({selector}[1m] offset 1ms) >= bool 10.0)"
    )
    assert sli["total"]["metricSource"]["spec"]["query"] == (
        f"min_over_time({selector}[1m] offset 1ms) <= bool Inf"
    )
    assert sli["counter"] is False


def test_sub_minute_slices_are_written_in_minutes_and_read_back() -> None:
    (sla,) = [s for s in SLAS if s.name == "edge.v2-cases"]
    slos = [d for d in to_openslo_v1(sla) if d["kind"] == "SLO"]
    windows = [s["spec"]["objectives"][0]["timeSliceWindow"] for s in slos]
    assert windows == [20 / 60, 0.75, "30m"]
    assert slos[0]["metadata"]["annotations"] == {
        "sla.monitoring/allow-pending": "true"
    }


@pytest.mark.parametrize("sla", SLAS, ids=IDS)
def test_v1alpha_sums_the_per_slice_queries_over_sloths_window(sla: Sla) -> None:
    try:
        documents = to_openslo_v1alpha(sla)
    except OpenSloError as exc:
        assert "whole days" in str(exc) and ".window" in str(exc)
        return
    for objective, document in zip(sla.objectives, documents, strict=True):
        ratio = document["spec"]["objectives"][0]["ratioMetrics"]
        good, total = ratio["good"]["query"], ratio["total"]["query"]
        assert good.startswith("sum_over_time((") and "[{{.window}}:" in good
        assert total.startswith("sum_over_time((min_over_time(")
        assert document["spec"]["timeWindows"][0]["unit"] == "Day"
        assert document["spec"]["objectives"][0]["target"] == objective.target


def _sla(name: str = "x", **fields: Any) -> Sla:
    objective = {"selector": "m", "hi": 1.0, "target": 0.9, "window": "1h"}
    objective.update(fields)
    draft = SlaDraft(name=name, objectives=(ObjectiveDraft(**objective),))
    return validate_sla(draft)


@pytest.mark.parametrize(
    ("sla", "says"),
    [
        pytest.param(_sla("db_fleet"), 'name "db_fleet": OpenSLO names', id="name"),
        pytest.param(
            _sla(window="90s", slice="30s"),
            "objectives[0].window 1m30s: OpenSLO time windows are whole minutes",
            id="window-seconds",
        ),
    ],
)
def test_what_openslo_cannot_hold_is_refused_on_export(sla: Sla, says: str) -> None:
    with pytest.raises(OpenSloError) as caught:
        to_openslo_v1(sla)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_sloth_windows_in_hours_are_refused_naming_the_objective() -> None:
    with pytest.raises(OpenSloError, match=r"^objectives\[0\]\.window 1h: Sloth"):
        to_openslo_v1alpha(_sla())


def _exported() -> Documents:
    (sla,) = [s for s in SLAS if s.name == "db-fleet"]
    return _through_yaml(to_openslo_v1(sla))


def _set(documents: Documents, index: int, path: str, value: object) -> Documents:
    changed = copy.deepcopy(documents)
    *parents, last = path.split(".")
    node: Any = changed[index]
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return changed


_DELETE = object()
_GOOD = "spec.ratioMetric.good.metricSource.spec.query"


@pytest.mark.parametrize(
    ("index", "path", "value", "says"),
    [
        (
            2,
            "spec.budgetingMethod",
            "Occurrences",
            "spec.budgetingMethod 'Occurrences'",
        ),
        (2, "spec.objectives.0.timeSliceTarget", 0.9, "timeSliceTarget 0.9: only 1"),
        (2, "spec.objectives.0.op", "lte", "spec.objectives[0].op: not read"),
        (
            2,
            "spec.objectives.0.displayName",
            "x",
            "objectives[0].displayName: not read",
        ),
        (2, "spec.timeWindow.0.isRolling", False, "timeWindow[0].isRolling False"),
        (2, "spec.timeWindow.0.duration", "1M", "months, quarters and years vary"),
        (2, "spec.alertPolicies", ["p"], "spec.alertPolicies: not read"),
        (2, "spec.indicatorRef", "nowhere", "no SLI document of that name"),
        (2, "spec.objectives.0.timeSliceWindow", "5m", "judges 1m slices but"),
        (2, "metadata.labels", {"team": "db"}, "metadata.labels: not read"),
        (2, "metadata.annotations", {"a.b/c": "d"}, "annotations.a.b/c: not read"),
        (1, _GOOD, "sum(rate(x[5m]))", "not a query this reads"),
        (
            1,
            _GOOD,
            "(max_over_time(a[1m] offset 1ms) <= bool 5) * "
            "(min_over_time(b[1m] offset 1ms) >= bool 1)",
            "same selector and slice",
        ),
        (
            1,
            _GOOD,
            "(max_over_time(a[1m] offset 1ms) >= bool 5)",
            "not a query this reads",
        ),
        (1, "spec.ratioMetric.total.metricSource.spec.query", "count(x)", "expected"),
        (1, "spec.ratioMetric.total.metricSource.type", "Datadog", "only Prometheus"),
        (1, "spec.ratioMetric.counter", True, "counter True: must be false"),
        (0, "kind", "AlertPolicy", "kind 'AlertPolicy': alerts come from"),
        (0, "kind", "DataSource", "kind 'DataSource'"),
        (0, "apiVersion", "openslo/v1alpha", "written for Sloth only"),
        (0, "spec.owner", "me", "spec.owner: not read"),
    ],
)
def test_what_an_sla_cannot_hold_is_refused_on_apply(
    index: int, path: str, value: object, says: str
) -> None:
    documents = _set(_exported(), index, path, value)
    with pytest.raises(OpenSloError) as caught:
        drafts_from_openslo(list(enumerate(documents)))
    message = str(caught.value)
    assert says in message, message
    # A slice that does not fit the SLO's is found in the SLI's query.
    where = 1 if "judges" in says else index
    assert message.startswith(f"documents[{where}]") and "\n" not in message


def test_an_sli_no_slo_uses_is_refused_not_dropped() -> None:
    documents = _exported()
    extra = copy.deepcopy(documents[1])
    extra["metadata"]["name"] = "spare"
    with pytest.raises(OpenSloError, match=r'SLI "spare"\): no SLO uses this SLI'):
        drafts_from_openslo(list(enumerate([*documents, extra])))


def test_a_service_without_slo_is_refused() -> None:
    documents = _exported()
    lonely = copy.deepcopy(documents[0])
    lonely["metadata"]["name"] = "lonely"
    with pytest.raises(OpenSloError, match="no SLO names service 'lonely'"):
        drafts_from_openslo(list(enumerate([*documents, lonely])))


def test_an_inline_indicator_reads_like_a_referenced_one() -> None:
    documents = _exported()
    slo = copy.deepcopy(documents[2])
    del slo["spec"]["indicatorRef"]
    slo["spec"]["indicator"] = {
        "metadata": {"name": "inline"},
        "spec": documents[1]["spec"],
    }
    rest = [d for i, d in enumerate(documents) if i not in (1, 2)]
    (inline,) = [d for _, d in drafts_from_openslo(list(enumerate([slo, *rest])))]
    (both,) = [d for _, d in drafts_from_openslo(list(enumerate(documents)))]
    assert inline.objectives[0] == both.objectives[0]


def test_the_queries_read_back_are_the_ones_written() -> None:
    assert (
        good_query("m", "1m", None, 2.5)
        == "(max_over_time(m[1m] offset 1ms) <= bool 2.5)"
    )
    assert total_query("m", "30s") == "min_over_time(m[30s] offset 1ms) <= bool Inf"
    one_sided = _set(
        _exported(), 1, _GOOD, '( min_over_time(q{a="b"}[1m])  >= bool 3 )'
    )
    one_sided = _set(
        one_sided,
        1,
        "spec.ratioMetric.total.metricSource.spec.query",
        'min_over_time(q{a="b"}[1m]) <= bool Inf',
    )
    with pytest.raises(OpenSloError, match="not a query this reads"):
        drafts_from_openslo(list(enumerate(one_sided)))
