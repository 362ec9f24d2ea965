"""``monitoring sla export`` and OpenSLO files for ``monitoring sla apply``.

The mapping itself is :mod:`adapters.formats.openslo` (ADR 0044); this module
fetches the SLA, dumps the documents as YAML and turns read drafts into the
messages ``apply`` sends. Its refusals are :class:`InputError` lines (exit 2).
"""

import argparse
import math
from pathlib import Path
from typing import Any

import yaml

from adapters.formats.openslo import OpenSloError, to_openslo_v1
from adapters.formats.openslo_reading import drafts_from_openslo
from adapters.formats.openslo_v1alpha import to_openslo_v1alpha
from adapters.grpc.client import SlaClient
from adapters.grpc.convert import draft_from_message
from adapters.grpc.generated import sla_manager_pb2 as pb
from apps.sla.sla_files import InputError, SlaDocument
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.sla import Sla, SlaDraft, SlaLimits, validate_sla

FORMATS = {"openslo": to_openslo_v1, "openslo-v1alpha": to_openslo_v1alpha}
_V1ALPHA_HEADER = (
    "# openslo/v1alpha for Sloth (sloth generate -i FILE): one-way, `monitoring sla\n"
    "# apply` reads openslo/v1; allow_pending and the alerting section are not\n"
    "# carried (ADR 0044, ADR 0049).\n"
)
# A stored SLA was checked by the server, under its own limits; the export only
# needs it as a domain object again.
_STORED = SlaLimits(
    max_objectives=2**31,
    max_name_length=2**31,
    max_selector_length=2**31,
    max_description_length=2**31,
    min_slice_seconds=1,
    max_slice_seconds=2**62,
    max_window_seconds=2**62,
    max_slices_per_window=2**62,
)


def add_export_parser(actions: Any) -> None:
    """Add ``export NAME --format ... [-o FILE]`` to the ``sla`` actions."""
    export = actions.add_parser(
        "export",
        help="write one SLA as OpenSLO (v1, or v1alpha for Sloth)",
        description="Write an SLA as OpenSLO documents: openslo (openslo/v1: "
        "Service, SLI, SLO; read back by apply) or openslo-v1alpha (one SLO per "
        "objective, for Sloth). What OpenSLO cannot hold is refused.",
    )
    export.add_argument("name")
    export.add_argument("--address", help="host:port of the SLA manager")
    export.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="openslo",
        help="(default: openslo)",
    )
    export.add_argument(
        "-o", "--out", dest="out", metavar="FILE", help="write here (default: stdout)"
    )


def stored_sla(message: pb.Sla) -> Sla:
    """The domain SLA of a stored SLA's message."""
    return validate_sla(draft_from_message(message), _STORED)


def openslo_text(sla: Sla, form: str) -> str:
    """The documents of ``sla`` in ``form`` as multi-document YAML.

    Raises:
        InputError: what the format cannot hold, naming the field.
    """
    if form == "openslo" and sla.alerting != AlertingPolicy():
        # openslo/v1 is read back by apply: what it cannot hold is refused.
        raise InputError(
            f"sla {sla.name} as {form}: alerting.predicted_breach has no OpenSLO "
            "v1 counterpart (an AlertPolicy alerts on burn rates, not on predicted "
            "breaches); remove the section from the SLA, or export openslo-v1alpha, "
            "which leaves it out"
        )
    try:
        documents = FORMATS[form](sla)
    except OpenSloError as exc:
        raise InputError(f"sla {sla.name} as {form}: {exc}") from None
    text = yaml.safe_dump_all(
        documents, sort_keys=False, width=math.inf, allow_unicode=True
    )
    return (_V1ALPHA_HEADER if form == "openslo-v1alpha" else "") + text


def export_sla(client: SlaClient, args: argparse.Namespace) -> tuple[Any, str]:
    """Run ``export``: the YAML on stdout, or written to ``-o FILE``."""
    if args.output == "json":
        raise InputError("export writes YAML; choose its form with --format")
    message = client.get(args.name)
    text = openslo_text(stored_sla(message), args.format)
    if args.out is None:
        return message, text.rstrip("\n")
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {args.out}: {exc.strerror}") from None
    return message, f"sla {args.name} exported to {args.out} ({args.format})"


def _message(draft: SlaDraft) -> pb.Sla:
    objectives = []
    for o in draft.objectives:
        objective = pb.Objective(
            selector=o.selector,
            target=o.target,
            window=o.window,
            slice=o.slice,
            allow_pending=o.allow_pending,
        )
        if o.lo is not None:
            objective.lo = o.lo
        if o.hi is not None:
            objective.hi = o.hi
        objectives.append(objective)
    return pb.Sla(name=draft.name, description=draft.description, objectives=objectives)


def read_openslo(path: str, documents: list[tuple[int, object]]) -> list[SlaDocument]:
    """The SLAs of an OpenSLO v1 file, all or none.

    Raises:
        InputError: the first document or field that cannot be read.
    """
    try:
        drafts = drafts_from_openslo(documents)
    except OpenSloError as exc:
        raise InputError(f"{path}: {exc}") from None
    return [SlaDocument(label=label, sla=_message(d)) for label, d in drafts]
