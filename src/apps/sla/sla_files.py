"""SLA files of ``monitoring sla apply``: strict YAML read into SLA messages.

Every problem is one :class:`InputError` line naming the file, the document
(its index, and its name when it has one) and the key path. Unknown and repeated
keys are refused, never ignored: a misspelt key would otherwise quietly leave
its default in force.
"""

import difflib
import re
import sys
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import attrs
import yaml

from adapters.grpc.generated import sla_manager_pb2 as pb

DOCUMENT_KEYS = ("name", "description", "objectives")
OBJECTIVE_KEYS = ("selector", "lo", "hi", "target", "window", "slice", "allow_pending")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class InputError(Exception):
    """A file or argument the client cannot use; the message says why."""


@attrs.frozen
class SlaDocument:
    """One SLA of a file and where it was written (``documents[1] (name "x")``)."""

    label: str
    sla: pb.Sla


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice is an error."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *defaults` may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):  # the safe loader refuses it itself
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'key "{key}" is written twice', key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _suggestion(key: str, known: tuple[str, ...]) -> str:
    """``did you mean "slice"?`` for ``typo_slcie``, or the list of known keys."""
    lowered = key.lower()
    for candidate in (lowered, *re.split(r"[_\-. ]+", lowered)[::-1]):
        close = difflib.get_close_matches(candidate, known, n=1, cutoff=0.6)
        if candidate and close:
            return f'did you mean "{close[0]}"?'
    return "the keys are " + ", ".join(known)


def _check_keys(item: dict[Any, Any], known: tuple[str, ...], where: str) -> None:
    for key in item:
        if key not in known:
            text = str(key)
            raise InputError(f"{where}{text}: unknown key; {_suggestion(text, known)}")


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):  # YAML 1.1 reads 1e9 (no dot) as text
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where} must be a number, not {value!r}")
    return float(value)


def _text(value: object, where: str, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InputError(f"{where} must be text such as 12h, not {value!r}")
    return str(value)


def _flag(value: object, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InputError(f"{where} must be true or false, not {value!r}")
    return value


def _objective(item: object, where: str) -> pb.Objective:
    if not isinstance(item, dict):
        raise InputError(f"{where} must be a mapping with selector, lo/hi, target")
    _check_keys(item, OBJECTIVE_KEYS, f"{where}.")
    selector = item.get("selector")
    if not isinstance(selector, str):
        raise InputError(f"{where}.selector must be a PromQL selector in quotes")
    objective = pb.Objective(
        selector=selector,
        target=_number(item.get("target"), f"{where}.target") or 0.0,
        window=_text(item.get("window"), f"{where}.window"),
        slice=_text(item.get("slice"), f"{where}.slice", "1m"),
        allow_pending=_flag(item.get("allow_pending"), f"{where}.allow_pending"),
    )
    for side in ("lo", "hi"):
        value = _number(item.get(side), f"{where}.{side}")
        if value is not None:
            setattr(objective, side, value)
    return objective


def sla_from_document(document: dict[Any, Any]) -> pb.Sla:
    """One YAML mapping as an SLA message; the server validates the values.

    Raises:
        InputError: an unknown key, or a value of the wrong type, by key path.
    """
    _check_keys(document, DOCUMENT_KEYS, "")
    name = document.get("name")
    if not isinstance(name, str):
        raise InputError(f"name must be text, not {name!r}")
    objectives = document.get("objectives")
    if not isinstance(objectives, list):
        raise InputError(f"objectives must be a list, not {objectives!r}")
    return pb.Sla(
        name=name,
        description=_text(document.get("description"), "description"),
        objectives=[
            _objective(o, f"objectives[{i}]") for i, o in enumerate(objectives)
        ],
    )


def _label(index: int, document: object) -> str:
    name = document.get("name") if isinstance(document, dict) else None
    return (
        f'documents[{index}] (name "{name}")'
        if isinstance(name, str)
        else (f"documents[{index}]")
    )


def _decoded(path: str) -> str:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} "
            "cannot be decoded; save the file as UTF-8"
        ) from None


def _documents(path: str, text: str) -> Iterator[tuple[int, object]]:
    """Each YAML document with its index; a syntax error names its document."""
    index = 0
    loaded = yaml.load_all(text, Loader=_StrictLoader)  # a SafeLoader subclass
    while True:
        try:
            document = next(loaded)
        except StopIteration:
            return
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InputError(
                f"{path} is not valid YAML in documents[{index}]{where}: {exc.problem}"
            ) from None
        except yaml.reader.ReaderError as exc:  # checked before any document
            line = text.count("\n", 0, exc.position) + 1
            raise InputError(
                f"{path} is not valid YAML: line {line} holds the character "
                f"#x{exc.character:04x}, which YAML does not allow"
            ) from None
        except yaml.YAMLError as exc:
            flat = " ".join(str(exc).split())
            raise InputError(
                f"{path} is not valid YAML in documents[{index}]: {flat}"
            ) from None
        yield index, document
        index += 1


def read_slas(path: str) -> list[SlaDocument]:
    """Every SLA in a YAML file (documents separated by ``---``), all or none.

    Raises:
        InputError: the first problem of the file; nothing is returned then.
    """
    found: list[SlaDocument] = []
    first: dict[str, int] = {}
    for index, document in _documents(path, _decoded(path)):
        if document is None:  # an empty document, e.g. after a final ---
            continue
        label = _label(index, document)
        if not isinstance(document, dict):
            kind = type(document).__name__
            raise InputError(
                f"{path}: {label}: expected a mapping with name and objectives, "
                f"not a {kind}"
            )
        try:
            sla = sla_from_document(document)
        except InputError as exc:
            raise InputError(f"{path}: {label}: {exc}") from None
        if sla.name in first:
            raise InputError(
                f"{path}: documents[{first[sla.name]}] and documents[{index}] both "
                f'define the SLA "{sla.name}"; define each SLA once per file'
            )
        first[sla.name] = index
        found.append(SlaDocument(label=label, sla=sla))
    if not found:
        raise InputError(f"{path} holds no SLA")
    return found
