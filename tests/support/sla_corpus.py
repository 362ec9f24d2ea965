"""Every SLA the tests define, found in their source: for ``promtool check rules``.

Two forms are collected from ``tests/**/*.py`` without importing the modules:
string literals that are valid SLA YAML (``monitoring sla apply`` files; the
deliberately broken ones are skipped), and ``ObjectiveDraft(...)`` calls whose
arguments are all literals (each becomes an SLA of its own). The YAML files of
``examples/`` and ``tests/promtool/`` are added by the caller.
"""

import ast
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from adapters.grpc.convert import draft_from_message
from apps.sla.sla_files import InputError, read_slas
from monitoring_core.errors import MonitoringError
from monitoring_core.sla import ObjectiveDraft, Sla, SlaDraft, SlaLimits, validate_sla

ROOT = Path(__file__).resolve().parents[2]
LIMITS = SlaLimits(max_objectives=10_000)


def _yaml_slas(text: str) -> list[Sla]:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        file.write(text)
        file.flush()
        try:
            documents = read_slas(file.name)
        except InputError:
            return []
    found = []
    for document in documents:
        with contextlib.suppress(MonitoringError):
            found.append(validate_sla(draft_from_message(document.sla), LIMITS))
    return found


def _literal_draft(call: ast.Call) -> ObjectiveDraft | None:
    if call.args:
        return None
    try:
        values = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        return ObjectiveDraft(**values)
    except (ValueError, TypeError):
        return None


def _draft_slas(tree: ast.AST, stem: str) -> Iterator[Sla]:
    for node in ast.walk(tree):
        is_draft = isinstance(node, ast.Call) and (
            getattr(node.func, "id", None) == "ObjectiveDraft"
            or getattr(node.func, "attr", None) == "ObjectiveDraft"
        )
        draft = (
            _literal_draft(node) if isinstance(node, ast.Call) and is_draft else None
        )
        if draft is None:
            continue
        name = f"{stem}-{node.lineno}".replace("_", "-").lower()
        with contextlib.suppress(MonitoringError):
            yield validate_sla(SlaDraft(name=name, objectives=(draft,)), LIMITS)


def slas_in_tests() -> list[tuple[str, Sla]]:
    """``(where, sla)`` for every SLA defined in the test sources."""
    found: list[tuple[str, Sla]] = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "objectives:" in node.value
            ):
                found += [(f"{where}:{node.lineno}", s) for s in _yaml_slas(node.value)]
        found += [(where, s) for s in _draft_slas(tree, path.stem)]
    return found
