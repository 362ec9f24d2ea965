"""``monitoring sla ...``: the SLA manager's command-line client.

Tables by default, ``--output json`` for scripts; any failure is one line on
stderr and a non-zero exit (1 for a failed call, 2 for bad input or settings).
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml
from google.protobuf import json_format
from google.protobuf.message import Message

from adapters.grpc.client import SlaCallError, SlaClient
from adapters.grpc.generated import sla_manager_pb2 as pb
from apps.env import ConfigError, Env
from apps.sla import tables
from apps.sla.client_settings import DEFAULT_ADDRESS, read_sla_client_settings

OBJECTIVE_KEYS = {"selector", "lo", "hi", "target", "window", "slice", "allow_pending"}


class InputError(Exception):
    """A file or argument the client cannot use; the message says why."""


def add_parser(commands: Any) -> None:
    """Add ``sla`` and its actions to the ``monitoring`` parser."""
    sla = commands.add_parser(
        "sla",
        help="SLA client: apply, get, list, delete, status, violations, predict",
        description="Talk to the SLA manager at MONITORING_SLA_ADDRESS "
        "(default 127.0.0.1:50051); MONITORING_SLA_TOKEN, MONITORING_SLA_TLS_CA "
        "and MONITORING_SLA_TLS configure authentication and TLS.",
    )
    # Accepted before or after the action: `sla -o json list` and `sla list -o json`.
    common = argparse.ArgumentParser(add_help=False)
    for parser, default in ((sla, None), (common, argparse.SUPPRESS)):
        parser.add_argument(
            "--address", default=default, help="host:port of the SLA manager"
        )
        parser.add_argument(
            "--output",
            "-o",
            choices=("table", "json"),
            default="table" if default is None else default,
            help="format (default: table)",
        )
    actions = sla.add_subparsers(dest="action", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            name, help=text, parents=[common]
        )
        return parser

    apply = action("apply", "create or update SLAs from YAML")
    apply.add_argument("-f", "--file", required=True, help="YAML file, - for stdin")
    apply.add_argument(
        "--expected-version",
        type=int,
        help="refuse the change unless the stored version is this (0: new)",
    )
    for name, text in (
        ("get", "show one SLA"),
        ("delete", "delete one SLA"),
        ("status", "status of every objective now"),
    ):
        action(name, text).add_argument("name")
    action("list", "list SLAs")
    violations = action("violations", "past violations")
    violations.add_argument("name")
    violations.add_argument(
        "--window", default="1h,3h,12h", help="comma-separated windows (1h,3h,12h)"
    )
    score = action("score", "how past predictions fared (precision, recall)")
    score.add_argument("name")
    score.add_argument("--lookback", default="24h", help="predictions made within")
    predict = action("predict", "predicted violations")
    predict.add_argument("name")
    predict.add_argument("--horizon", default="10m", help="how far ahead (10m)")


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
    if not isinstance(value, str | int):
        raise InputError(f"{where} must be text such as 12h, not {value!r}")
    return str(value)


def _objective(item: object, where: str) -> pb.Objective:
    if not isinstance(item, dict):
        raise InputError(f"{where} must be a mapping with selector, lo/hi, target")
    selector = item.get("selector")
    if not isinstance(selector, str):
        raise InputError(f"{where}.selector must be a PromQL selector in quotes")
    objective = pb.Objective(
        selector=selector,
        target=_number(item.get("target"), f"{where}.target") or 0.0,
        window=_text(item.get("window"), f"{where}.window"),
        slice=_text(item.get("slice"), f"{where}.slice", "1m"),
        allow_pending=bool(item.get("allow_pending", False)),
    )
    for side in ("lo", "hi"):
        value = _number(item.get(side), f"{where}.{side}")
        if value is not None:
            setattr(objective, side, value)
    return objective


def sla_from_document(document: object, where: str) -> pb.Sla:
    """One YAML document as an SLA message; the server validates the rest."""
    if not isinstance(document, dict):
        raise InputError(f"{where}: expected a mapping with name and objectives")
    name = document.get("name")
    if not isinstance(name, str):
        raise InputError(f"{where}: name must be text")
    objectives = document.get("objectives")
    if not isinstance(objectives, list):
        raise InputError(f"{where}: objectives must be a list")
    return pb.Sla(
        name=name,
        description=_text(document.get("description"), f"{where}.description"),
        objectives=[
            _objective(o, f"{where}: objectives[{i}]") for i, o in enumerate(objectives)
        ],
    )


def read_slas(path: str) -> list[pb.Sla]:
    """Every SLA in a YAML file (several documents separated by ``---``)."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {exc}".replace("\n", " ")) from exc
    if not documents:
        raise InputError(f"{path} holds no SLA")
    return [sla_from_document(d, f"{path}#{i + 1}") for i, d in enumerate(documents)]


def client_from_env(address: str | None) -> SlaClient:
    """A client configured by ``MONITORING_SLA_*`` (``--address`` wins)."""
    env = Env()
    settings = read_sla_client_settings(env, DEFAULT_ADDRESS)
    env.raise_if_invalid()
    if address:
        settings = attrs.evolve(settings, address=address)
    return settings.client()


def _json(message: Message | Sequence[Message]) -> str:
    def one(m: Message) -> dict[str, Any]:
        return json_format.MessageToDict(m, preserving_proto_field_name=True)

    body = [one(m) for m in message] if isinstance(message, Sequence) else one(message)
    return json.dumps(body, indent=2, sort_keys=True)


def _apply(client: SlaClient, args: argparse.Namespace) -> tuple[Any, str]:
    slas = read_slas(args.file)
    if args.expected_version is not None and len(slas) > 1:
        raise InputError("--expected-version needs a file with a single SLA")
    # Every SLA of the file is checked before any is applied: one bad document
    # leaves the others unapplied too.
    for sla in slas:
        client.apply(sla, args.expected_version, validate_only=True)
    responses = [client.apply(s, args.expected_version) for s in slas]
    return responses, tables.applied(responses)


def _dispatch(client: SlaClient, args: argparse.Namespace) -> tuple[Any, str]:
    action: str = args.action
    if action == "apply":
        return _apply(client, args)
    if action == "list":
        slas = client.list_slas()
        return slas, tables.sla_list(slas)
    if action == "get":
        sla = client.get(args.name)
        return sla, tables.sla_detail(sla)
    if action == "delete":
        client.delete(args.name)
        return pb.DeleteSlaResponse(), f"sla {args.name} deleted"
    if action == "status":
        report = client.status(args.name)
        return report, tables.status(report)
    if action == "violations":
        windows = [w.strip() for w in args.window.split(",") if w.strip()]
        found = client.violations(args.name, windows)
        return found, tables.violations(found)
    if action == "score":
        scores = client.score(args.name, args.lookback)
        return scores, tables.scores(scores)
    report = client.predict(args.name, args.horizon)
    return report, tables.prediction(report)


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run one ``monitoring sla`` action; return the exit code."""
    try:
        client = client_from_env(args.address)
    except ConfigError as exc:
        print(f"monitoring sla: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    try:
        with client:
            body, table = _dispatch(client, args)
    except InputError as exc:
        print(f"monitoring sla: {exc}", file=sys.stderr)
        return 2
    except SlaCallError as exc:
        print(f"monitoring sla {args.action}: {exc}", file=sys.stderr)
        return 1
    out(_json(body) if args.output == "json" else table)
    return 0
