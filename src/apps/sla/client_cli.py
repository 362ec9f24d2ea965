"""``monitoring sla ...``: the SLA manager's command-line client.

Tables by default, ``--output json`` for scripts; any failure is one line on
stderr and a non-zero exit (1 for a failed call, 2 for bad input or settings).
"""

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from google.protobuf import json_format
from google.protobuf.message import Message

from adapters.grpc.client import SlaCallError, SlaClient
from adapters.grpc.generated import sla_manager_pb2 as pb
from apps.env import ConfigError, Env
from apps.sla import rules_cli, tables
from apps.sla.client_args import (
    check_whole_slices,
    duration_argument,
    window_arguments,
)
from apps.sla.client_settings import (
    ADDRESS_PATTERN,
    DEFAULT_ADDRESS,
    read_sla_client_settings,
)
from apps.sla.openslo_cli import add_export_parser, export_sla
from apps.sla.sla_files import InputError, read_slas, shown_path

__all__ = ["InputError", "add_parser", "client_from_env", "run"]

MAX_VERSION = 2**63 - 1
"""Versions are int64 on the wire."""


def add_parser(commands: Any) -> None:
    """Add ``sla`` and its actions to the ``monitoring`` parser."""
    sla = commands.add_parser(
        "sla",
        help="SLA client: apply, get, list, delete, status, violations, predict, "
        "score, rules, export",
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

    apply = action(
        "apply",
        "create or update SLAs from YAML or OpenSLO v1 (strict: unknown keys refused)",
    )
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
        "--window",
        default="1h,3h,12h",
        help="comma-separated windows, each a whole number of every objective's "
        "slices (default: 1h,3h,12h)",
    )
    score = action("score", "how past predictions fared (precision, recall)")
    score.add_argument("name")
    score.add_argument(
        "--lookback", default="24h", help="predictions made within (default: 24h)"
    )
    predict = action("predict", "predicted violations")
    predict.add_argument("name")
    predict.add_argument(
        "--horizon",
        default="10m",
        help="how far ahead, a whole number of every objective's slices (default: 10m)",
    )
    rules_cli.add_action(actions)
    add_export_parser(actions)


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
    version = args.expected_version
    if version is not None and not 0 <= version <= MAX_VERSION:
        raise InputError(
            f"--expected-version {version}: must be 0 (new) or a stored version, "
            f"at most {MAX_VERSION}"
        )
    documents = read_slas(args.file)
    if version is not None and len(documents) > 1:
        raise InputError("--expected-version needs a file with a single SLA")
    # Every SLA of the file is checked before any is applied: one bad document
    # leaves the others unapplied too.
    for document in documents:
        try:
            client.apply(document.sla, version, validate_only=True)
        except SlaCallError as exc:
            where = f"{exc}; in {shown_path(args.file)}, {document.label}"
            raise SlaCallError(exc.code, where, exc.fields) from None
    responses = [client.apply(d.sla, version) for d in documents]
    return responses, tables.applied(responses)


def _violations(client: SlaClient, args: argparse.Namespace) -> tuple[Any, str]:
    windows = window_arguments(args.window)
    check_whole_slices("--window", windows, client.get(args.name))
    found = client.violations(args.name, [text for text, _ in windows])
    return found, tables.violations(found)


def _predict(client: SlaClient, args: argparse.Namespace) -> tuple[Any, str]:
    horizon = [(args.horizon, duration_argument("--horizon", args.horizon))]
    check_whole_slices("--horizon", horizon, client.get(args.name))
    report = client.predict(args.name, args.horizon.strip())
    return report, tables.prediction(report)


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
        return _violations(client, args)
    if action == "export":
        return export_sla(client, args)
    if action == "score":
        duration_argument("--lookback", args.lookback)
        scores = client.score(args.name, args.lookback.strip())
        return scores, tables.scores(scores)
    return _predict(client, args)


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run one ``monitoring sla`` action; return the exit code."""
    if args.action == "rules":
        return rules_cli.run(args, client_from_env)
    if args.address is not None and not re.fullmatch(ADDRESS_PATTERN, args.address):
        print(
            f"monitoring sla: --address {args.address!r}: must be host:port",
            file=sys.stderr,
        )
        return 2
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
