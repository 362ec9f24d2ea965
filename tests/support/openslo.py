"""The OpenSLO v1 JSON schemas of ``../shared/reference/openslo-v1`` as a validator,
and SLAs that exercise every mapping rule of ``adapters.formats.openslo``."""

import json
import os
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator
from referencing import Registry, Resource

from monitoring_core.sla import ObjectiveDraft, Sla, SlaDraft, validate_sla
from tests.support.servers import ROOT

_REFERENCE = Path("reference") / "openslo-v1"


def _schemas() -> Path:
    """``../shared`` beside the checkout, else the workplace's ``/work/shared``.

    ``MONITORING_SHARED_DIR`` overrides both (a clone elsewhere, e.g. in /tmp).
    """
    candidates = [ROOT.parent / "shared", Path("/work/shared")]
    if os.environ.get("MONITORING_SHARED_DIR"):
        candidates.insert(0, Path(os.environ["MONITORING_SHARED_DIR"]))
    for base in candidates:
        if (base / _REFERENCE).is_dir():
            return base / _REFERENCE
    return candidates[0] / _REFERENCE


SCHEMAS = _schemas()


@cache
def openslo_v1_validator() -> Draft7Validator:
    """The top schema, its ``$id``s resolved to the files beside it."""
    assert SCHEMAS.is_dir(), (
        f"{SCHEMAS}: the OpenSLO v1 schemas of ../shared are missing"
    )
    files = [SCHEMAS / "openslo.schema.json", *sorted(SCHEMAS.glob("parts/*.json"))]
    resources = []
    for path in files:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Registry = Registry().with_resources(resources)
    top = json.loads((SCHEMAS / "openslo.schema.json").read_text())
    return Draft7Validator(top, registry=registry)


def _objective(selector: str, **fields: object) -> ObjectiveDraft:
    return ObjectiveDraft(selector=selector, **fields)  # type: ignore[arg-type]


def mapping_slas() -> list[Sla]:
    """Two-sided, one-sided (either side), sub-minute slices, allow_pending,
    weeks, odd bounds, a long description, a name with dots."""
    drafts = [
        SlaDraft(
            name="db-fleet",
            description="Connections in [10, 50], lag under 30 s; ünïcode: ok",
            objectives=(
                _objective(
                    'db_connections{cluster="db-1"}',
                    lo=10.0,
                    hi=50.0,
                    target=0.99,
                    window="12h",
                    slice="1m",
                ),
                _objective(
                    'db_replication_lag_seconds{cluster="db-1"}',
                    hi=30.0,
                    target=0.995,
                    window="3h",
                    slice="1m",
                ),
                _objective(
                    'db_connections{cluster="db-1"}',
                    lo=10.0,
                    hi=50.0,
                    target=0.95,
                    window="12h",
                    slice="5m",
                ),
            ),
        ),
        SlaDraft(
            name="edge.v2-cases",
            objectives=(
                _objective(
                    'free_bytes{mount="/",host="a b\\"c"}',
                    lo=-1.5e-7,
                    target=0.9,
                    window="1w",
                    slice="20s",
                    allow_pending=True,
                ),
                _objective(
                    "temperature_celsius",
                    lo=-40.25,
                    hi=1e9 + 0.5,
                    target=0.999,
                    window="1d",
                    slice="45s",
                ),
                _objective(
                    "queue_depth", hi=0.0, target=0.5, window="90m", slice="30m"
                ),
            ),
        ),
        SlaDraft(
            name="sloth-days",
            description="Windows in whole days, for Sloth.",
            objectives=(
                _objective(
                    'node_load1{job="node"}',
                    lo=0.0,
                    hi=4.0,
                    target=0.99,
                    window="30d",
                    slice="5m",
                ),
                _objective(
                    'node_procs_blocked{job="node"}',
                    hi=4.0,
                    target=0.95,
                    window="28d",
                    slice="1m",
                ),
            ),
        ),
    ]
    return [validate_sla(d) for d in drafts]


def example_paths() -> list[Path]:
    """The SLA files users start from."""
    return sorted((ROOT / "examples").glob("*.yaml"))
