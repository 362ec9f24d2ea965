"""SLA files of ``monitoring sla apply``: strict YAML read into SLA messages.

Every problem is one :class:`InputError` line naming the file, the document
(its index, and its name when it has one) and the key path. Unknown and repeated
keys are refused, never ignored: a misspelt key would otherwise quietly leave
its default in force.
"""

import difflib
import json
import re
import sys
from collections.abc import Hashable, Iterator
from pathlib import Path
from typing import Any

import attrs
import yaml

from adapters.grpc.convert import alerting_message
from adapters.grpc.generated import sla_manager_pb2 as pb
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.durations import parse_duration
from monitoring_core.errors import InvalidDuration

DOCUMENT_KEYS = ("name", "description", "objectives", "alerting")
OBJECTIVE_KEYS = ("selector", "lo", "hi", "target", "window", "slice", "allow_pending")
ALERTING_KEYS = ("predicted_breach",)
PREDICTED_BREACH_KEYS = ("probability", "for", "horizon")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class InputError(Exception):
    """A file or argument the client cannot use; the message says why."""


@attrs.frozen
class SlaDocument:
    """One SLA of a file and where it was written (``documents[1] (name "x")``).

    ``alerting`` is also in ``sla`` (``apply`` sends it, the SLA manager stores
    it, ADR 0049); here it is checked already, for ``monitoring sla rules -f``.
    """

    label: str
    sla: pb.Sla
    alerting: AlertingPolicy = attrs.field(factory=AlertingPolicy)


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
                shown = _quoted(key) if isinstance(key, str) else repr(key)
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {shown} is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _quoted(text: str) -> str:
    """``"web-tier"``: in double quotes, escapes kept on the one line."""
    return json.dumps(text, ensure_ascii=False)


def _shown(value: object) -> str:
    """A value as written in a message: its repr, cut short when long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggestion(key: str, known: tuple[str, ...]) -> str:
    """``did you mean "slice"?`` for ``typo_slcie``, or the list of known keys."""
    lowered = key.lower()
    for candidate in (lowered, *re.split(r"[_\-. ]+", lowered)[::-1]):
        close = difflib.get_close_matches(candidate, known, n=1, cutoff=0.6)
        if candidate and close:
            return f"did you mean {_quoted(close[0])}?"
    return "the keys are " + ", ".join(known)


def _check_keys(item: dict[Any, Any], known: tuple[str, ...], where: str) -> None:
    for key in item:
        if key not in known:
            text = str(key)
            shown = text if text.isprintable() and " " not in text else _quoted(text)
            hint = _suggestion(text, known)
            raise InputError(f"{where}{shown}: unknown key; {hint}")


def _number(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):  # YAML 1.1 reads 1e9 (no dot) as text
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where} must be a number, not {_shown(value)}")
    return float(value)


def _text(value: object, where: str, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InputError(f"{where} must be text such as 12h, not {_shown(value)}")
    return str(value)


def _flag(value: object, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InputError(f"{where} must be true or false, not {_shown(value)}")
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


def _seconds(value: object, where: str, default: int, zero: bool = False) -> int:
    if value is None:
        return default
    text = _text(value, where)
    if zero and text.strip() in ("0", "0s"):
        return 0
    try:
        return parse_duration(text)
    except InvalidDuration as exc:
        raise InputError(f"{where}: {exc}") from None


def alerting_from_document(document: dict[Any, Any]) -> AlertingPolicy:
    """The ``alerting`` section of an SLA document; defaults where absent.

    Raises:
        InputError: an unknown key or a wrong value, by key path.
    """
    section = document.get("alerting")
    if section is None:
        return AlertingPolicy()
    if not isinstance(section, dict):
        raise InputError("alerting must be a mapping with predicted_breach")
    _check_keys(section, ALERTING_KEYS, "alerting.")
    breach = section.get("predicted_breach")
    breach = {} if breach is None else breach
    where = "alerting.predicted_breach"
    if not isinstance(breach, dict):
        raise InputError(f"{where} must be a mapping with probability, for, horizon")
    _check_keys(breach, PREDICTED_BREACH_KEYS, f"{where}.")
    default = AlertingPolicy()
    probability = _number(breach.get("probability"), f"{where}.probability")
    if probability is not None and not 0.0 < probability < 1.0:
        raise InputError(
            f"{where}.probability must lie strictly between 0 and 1, not "
            f"{_shown(breach.get('probability'))}"
        )
    return AlertingPolicy(
        predicted_breach_probability=default.predicted_breach_probability
        if probability is None
        else probability,
        predicted_breach_for_seconds=_seconds(
            breach.get("for"),
            f"{where}.for",
            default.predicted_breach_for_seconds,
            zero=True,
        ),
        predicted_breach_horizon_seconds=_seconds(
            breach.get("horizon"),
            f"{where}.horizon",
            default.predicted_breach_horizon_seconds,
        ),
    )


def sla_from_document(document: dict[Any, Any]) -> pb.Sla:
    """One YAML mapping as an SLA message; the server validates the values.

    Raises:
        InputError: an unknown key, or a value of the wrong type, by key path.
    """
    _check_keys(document, DOCUMENT_KEYS, "")
    name = document.get("name")
    if not isinstance(name, str):
        raise InputError(f"name must be text, not {_shown(name)}")
    objectives = document.get("objectives")
    if not isinstance(objectives, list):
        raise InputError(f"objectives must be a list, not {_shown(objectives)}")
    return pb.Sla(
        name=name,
        description=_text(document.get("description"), "description"),
        objectives=[
            _objective(o, f"objectives[{i}]") for i, o in enumerate(objectives)
        ],
    )


def _label(index: int, document: object) -> str:
    name = document.get("name") if isinstance(document, dict) else None
    named = f" (name {_quoted(name)})" if isinstance(name, str) else ""
    return f"documents[{index}]{named}"


def shown_path(path: str) -> str:
    """How messages name the file: ``-`` is standard input."""
    return "standard input" if path == "-" else path


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
            f"{shown_path(path)} is not UTF-8 text: byte 0x{data[exc.start]:02x} "
            f"on line {line} cannot be decoded; save the file as UTF-8"
        ) from None


def _yaml_error(path: str, text: str, index: int, exc: yaml.YAMLError) -> InputError:
    """One line for a YAML error: where it is (document, line, column) and what."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return InputError(
            f"{path} is not valid YAML in documents[{index}]{where}: {exc.problem}"
        )
    if isinstance(exc, yaml.reader.ReaderError):  # checked before any document
        line = text.count("\n", 0, exc.position) + 1
        return InputError(
            f"{path} is not valid YAML: line {line} holds the character "
            f"#x{exc.character:04x}, which YAML does not allow"
        )
    flat = " ".join(str(exc).split())
    return InputError(f"{path} is not valid YAML in documents[{index}]: {flat}")


def _documents(path: str, text: str) -> Iterator[tuple[int, object]]:
    """Each YAML document with its index; a syntax error names its document."""
    loaded = yaml.load_all(text, Loader=_StrictLoader)  # a SafeLoader subclass
    index = 0
    while True:
        try:
            document = next(loaded)
        except StopIteration:
            return
        except yaml.YAMLError as exc:
            raise _yaml_error(path, text, index, exc) from None
        yield index, document
        index += 1


def _document(path: str, index: int, document: object) -> SlaDocument:
    """One non-empty document as an SLA; its problems name it."""
    label = _label(index, document)
    if not isinstance(document, dict):
        raise InputError(
            f"{path}: {label}: expected a mapping with name and objectives, "
            f"not a {type(document).__name__}"
        )
    try:
        sla, alerting = sla_from_document(document), alerting_from_document(document)
        if "alerting" in document:
            sla.alerting.CopyFrom(alerting_message(alerting))
        return SlaDocument(label=label, sla=sla, alerting=alerting)
    except InputError as exc:
        raise InputError(f"{path}: {label}: {exc}") from None


def read_slas(path: str) -> list[SlaDocument]:
    """Every SLA in a YAML file (documents separated by ``---``), all or none.

    Raises:
        InputError: the first problem of the file; nothing is returned then.
    """
    found: list[SlaDocument] = []
    first: dict[str, int] = {}
    text, path = _decoded(path), shown_path(path)
    # An empty document (e.g. after a final ---) is skipped.
    documents = [(i, d) for i, d in _documents(path, text) if d is not None]
    if any(isinstance(d, dict) and "apiVersion" in d for _, d in documents):
        from apps.sla.openslo_cli import read_openslo  # OpenSLO v1 (ADR 0044)

        return read_openslo(path, documents)
    for index, document in documents:
        read = _document(path, index, document)
        name = read.sla.name
        if name in first:
            raise InputError(
                f"{path}: documents[{first[name]}] and documents[{index}] both "
                f"define the SLA {_quoted(name)}; define each SLA once per file"
            )
        first[name] = index
        found.append(read)
    if not found:
        raise InputError(f"{path} holds no SLA")
    return found
