"""``openslo/v1`` documents read back into SLA drafts, strictly (ADR 0044).

The reader takes what :func:`~adapters.formats.openslo.to_openslo_v1` writes:
Service, SLI and SLO documents, each SLO with one objective over one ratio SLI
of the per-slice queries, Timeslices budgeting with ``timeSliceTarget: 1``. What
an SLA cannot hold (another kind, budgeting method, operator or query shape, a
calendar window, a field it does not know) is an :class:`OpenSloError` naming
the document and the field; nothing is dropped and nothing partial returned.
"""

from collections.abc import Sequence

from adapters.formats.openslo import V1, V1ALPHA, OpenSloError
from adapters.formats.openslo_fields import Fields
from adapters.formats.openslo_queries import SliQueries, read_queries
from monitoring_core.sla import ObjectiveDraft, SlaDraft

KINDS = ("Service", "SLI", "SLO")
_WHY_NOT = {
    "AlertPolicy": "alerts come from `monitoring sla rules`; an SLA holds none",
    "AlertCondition": "alerts come from `monitoring sla rules`; an SLA holds none",
    "AlertNotificationTarget": "an SLA holds no notification target",
    "DataSource": "the SLA manager reads its own Prometheus",
}


def _header(index: int, document: object) -> tuple[str, Fields]:
    """The document's label (``documents[2] (SLO "web-0")``) and its fields."""
    label = f"documents[{index}]"
    if not isinstance(document, dict):
        raise OpenSloError(f"{label}: expected an OpenSLO mapping")
    kind, name = document.get("kind"), None
    metadata = document.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
        name = metadata["name"]
        label += f' ({kind} "{name}")'
    fields = Fields(label, "", document)
    fields.only("apiVersion", "kind", "metadata", "spec")
    version = fields.text("apiVersion")
    if version == V1ALPHA:
        raise fields.error(
            "apiVersion", f"{V1ALPHA} is written for Sloth only; apply reads {V1}"
        )
    if version != V1:
        raise fields.error("apiVersion", f"expected {V1}")
    if kind not in KINDS:
        why = _WHY_NOT.get(str(kind), f"the kinds read are {', '.join(KINDS)}")
        raise fields.error("kind", why)
    return label, fields


def _metadata(fields: Fields, annotations: bool) -> tuple[str, bool]:
    """The name, and ``allow_pending`` from the one annotation read."""
    metadata = fields.child("metadata")
    metadata.only("name", *(("annotations",) if annotations else ()))
    name = metadata.text("name")
    pending = False
    if "annotations" in metadata.data:
        pending = metadata.child("annotations").allow_pending()
    return name, pending


def _slo(fields: Fields, queries: SliQueries) -> tuple[str, ObjectiveDraft]:
    """The SLA name (``spec.service``) and the objective of one SLO document."""
    _, pending = _metadata(fields, annotations=True)
    spec = fields.child("spec")
    spec.only(
        "service",
        "indicator",
        "indicatorRef",
        "timeWindow",
        "budgetingMethod",
        "objectives",
    )
    if spec.text("budgetingMethod") != "Timeslices":
        raise spec.error(
            "budgetingMethod",
            "only Timeslices: a slice is judged on its max and min",
        )
    window = spec.one("timeWindow")
    window.only("duration", "isRolling")
    if window.data.get("isRolling") is not True:
        raise window.error("isRolling", "only rolling windows (isRolling: true)")
    objective = spec.one("objectives")
    objective.only("target", "timeSliceTarget", "timeSliceWindow")
    if objective.number("timeSliceTarget") != 1:
        raise objective.error(
            "timeSliceTarget", "only 1: a slice is good when all its samples are"
        )
    slice_seconds = objective.slice_window("timeSliceWindow")
    read = read_queries(spec, queries, slice_seconds)
    draft = ObjectiveDraft(
        selector=read.selector,
        lo=read.lo,
        hi=read.hi,
        target=objective.number("target"),
        window=window.window("duration"),
        slice=read.step,
        allow_pending=pending,
    )
    return spec.text("service"), draft


def _sli(fields: Fields) -> tuple[str, Fields]:
    name, _ = _metadata(fields, annotations=False)
    spec = fields.child("spec")
    spec.only("ratioMetric")
    return name, spec


def _service(fields: Fields) -> tuple[str, str]:
    name, _ = _metadata(fields, annotations=False)
    spec = fields.child("spec")
    spec.only("description")
    description = spec.text("description") if "description" in spec.data else ""
    return name, description


def drafts_from_openslo(
    documents: Sequence[tuple[int, object]],
) -> list[tuple[str, SlaDraft]]:
    """The SLAs of ``openslo/v1`` documents, in the order their SLOs come.

    Args:
        documents: ``(index in the file, parsed YAML)`` of each document.

    Returns:
        ``(label, draft)`` per SLA; the label names its first SLO document.

    Raises:
        OpenSloError: the first document or field that cannot be read.
    """
    headers = [_header(index, document) for index, document in documents]
    services: dict[str, tuple[str, str]] = {}
    slis: dict[str, Fields] = {}
    for label, fields in headers:
        if fields.data["kind"] == "Service":
            name, description = _service(fields)
            services[name] = (label, description)
        elif fields.data["kind"] == "SLI":
            name, spec = _sli(fields)
            slis[name] = spec
    queries = SliQueries(slis)
    objectives: dict[str, list[ObjectiveDraft]] = {}
    labels: dict[str, str] = {}
    for label, fields in headers:
        if fields.data["kind"] == "SLO":
            service, draft = _slo(fields, queries)
            objectives.setdefault(service, []).append(draft)
            labels.setdefault(service, label)
    queries.check_all_used()
    return _assemble(services, objectives, labels)


def _assemble(
    services: dict[str, tuple[str, str]],
    objectives: dict[str, list[ObjectiveDraft]],
    labels: dict[str, str],
) -> list[tuple[str, SlaDraft]]:
    for name, (label, _) in services.items():
        if name not in objectives:
            raise OpenSloError(f"{label}: no SLO names service {name!r}")
    return [
        (
            labels[name],
            SlaDraft(
                name=name,
                description=services.get(name, ("", ""))[1],
                objectives=tuple(found),
            ),
        )
        for name, found in objectives.items()
    ]
