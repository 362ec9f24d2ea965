"""Each MONITORING_* variable is spelled, so parsed, in exactly one place (ADR 0023)."""

import ast
import re
from collections import Counter
from pathlib import Path

import apps
from apps.service_help import SERVICES

SRC = Path(apps.__file__).parent
NAME = re.compile(r"MONITORING_[A-Z0-9_]+")


def _spellings() -> Counter[str]:
    """Whole-string constants that are a variable name, over every module of apps."""
    found: Counter[str] = Counter()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and NAME.fullmatch(value):
                found[value] += 1
    return found


def test_every_variable_name_is_written_once_under_apps() -> None:
    twice = {name: n for name, n in _spellings().items() if n > 1}
    assert twice == {}


def test_every_variable_a_command_reads_is_among_those_written_once() -> None:
    read = {name for s in SERVICES.values() for name in s.variables()}
    assert len(read) > 40  # the recording loaders really ran
    assert read <= set(_spellings())
