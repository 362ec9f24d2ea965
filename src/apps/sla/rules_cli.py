"""``monitoring sla rules``: Prometheus recording rules and alerts of SLAs.

The SLAs come from YAML files (``-f``) or from the SLA manager (``NAME...`` or
``--all``), each with its ``alerting`` section (stored by the manager since ADR
0049). The file is written whole or not at all. ``monitoring run`` writes its
live rule file through :func:`rule_file_text` too (ADR 0048).
"""

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

from adapters.grpc.client import SlaCallError, SlaClient
from adapters.grpc.convert import draft_from_message
from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.prometheus.rules import (
    Group,
    number,
    prometheus_rule,
    sla_groups,
    stale_group,
    unreachable,
)
from apps.env import ConfigError
from apps.sla.sla_files import InputError, SlaDocument, read_slas
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.durations import parse_duration
from monitoring_core.errors import InvalidDuration, InvalidSla
from monitoring_core.sla import Sla, SlaLimits, validate_sla

DEFAULT_SLA_URL = "http://127.0.0.1:8080/ui/slas/{sla}"
"""Where an alert links to: the console of issue 15 (``{sla}`` is the name)."""
FORMATS = ("prometheus", "prometheus-rule")
_LIMITS = SlaLimits(max_objectives=10_000)
"""The manager enforces its own objective limit when an SLA is applied."""

ClientFactory = Callable[[str | None], SlaClient]


def add_action(actions: Any) -> None:
    """Add ``rules`` to the actions of ``monitoring sla``."""
    rules = actions.add_parser(
        "rules",
        help="Prometheus recording rules and alerts (MWMB burn rate, predicted "
        "breach, stale manager) of SLAs",
        description="Write a Prometheus rule file for SLAs read from YAML files "
        "(-f) or from the SLA manager (NAME... or --all). docs/alerting.md "
        "explains the rules.",
    )
    rules.add_argument("names", nargs="*", metavar="NAME", help="SLAs to include")
    rules.add_argument("--all", action="store_true", help="every SLA")
    rules.add_argument(
        "-f", "--file", action="append", default=[], help="SLA YAML file (repeat)"
    )
    rules.add_argument(
        "-o", "--output", dest="rules_file", default="-", help="file (default: -)"
    )
    rules.add_argument(
        "--format", choices=FORMATS, default="prometheus", help="default: prometheus"
    )
    rules.add_argument(
        "--stale-after",
        default="5m",
        help="SLAManagerStale when the manager's last refresh is older (default 5m)",
    )
    rules.add_argument(
        "--sla-url",
        default=DEFAULT_SLA_URL,
        help=f"link in each alert, {{sla}} for the name (default {DEFAULT_SLA_URL})",
    )
    rules.add_argument(
        "--name", default="monitoring-slas", help="PrometheusRule metadata.name"
    )
    rules.add_argument("--address", default=argparse.SUPPRESS, help="host:port")


@attrs.frozen
class _Source:
    """One SLA to write rules for (its message holds its alerting settings)."""

    label: str
    sla: pb.Sla


def _from_files(args: argparse.Namespace) -> list[_Source]:
    documents: list[tuple[str, SlaDocument]] = [
        (path, d) for path in args.file for d in read_slas(path)
    ]
    found = [_Source(f"{path}: {d.label}", d.sla) for path, d in documents]
    names = {s.sla.name for s in found}
    missing = [n for n in args.names if n not in names]
    if missing:
        raise InputError(f"no SLA named {missing[0]!r} in {', '.join(args.file)}")
    return [s for s in found if not args.names or s.sla.name in args.names]


def _from_manager(args: argparse.Namespace, client: SlaClient) -> list[_Source]:
    if args.all:
        return [_Source(f"SLA {s.name!r}", s) for s in client.list_slas()]
    return [_Source(f"SLA {n!r}", client.get(n)) for n in args.names]


def _validated(source: _Source) -> Sla:
    try:
        return validate_sla(draft_from_message(source.sla), _LIMITS)
    except InvalidSla as exc:
        raise InputError(f"{source.label}: {exc}") from None


def _warn_unreachable(sla: Sla, warn: Callable[[str], None]) -> None:
    for index, objective in enumerate(sla.objectives):
        for w in unreachable(objective):
            warn(
                f"{sla.name} objective {index}: the {w.severity} condition "
                f"{number(w.factor)}x over {w.long}/{w.short} is left out: "
                f"a burn rate cannot exceed 1/(1 - {number(objective.target)}) = "
                f"{number(1 / (1 - objective.target))}"
            )


def render(
    slas: Sequence[tuple[Sla, AlertingPolicy]],
    stale_after_seconds: int,
    sla_url: str,
    rule_format: str = "prometheus",
    name: str = "monitoring-slas",
) -> str:
    """The rule file of these SLAs as YAML text, with a header comment."""
    groups: list[Group] = [
        group
        for sla, policy in slas
        for group in sla_groups(sla, policy, sla_url.replace("{sla}", sla.name))
    ]
    groups.append(stale_group(stale_after_seconds))
    body: dict[str, Any] = (
        prometheus_rule(groups, name)
        if rule_format == "prometheus-rule"
        else {"groups": groups}
    )
    shown = ", ".join(sla.name for sla, _ in slas) or "no SLA"
    header = (
        f"# Generated by `monitoring sla rules` for: {shown}.\n"
        "# Do not edit: generate again when an SLA changes (docs/alerting.md).\n"
    )
    return header + yaml.dump(
        body, Dumper=_PlainDumper, sort_keys=False, width=10_000, allow_unicode=True
    )


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors: every group spells its labels out."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def check_rule_text(text: str, rule_format: str = "prometheus") -> None:
    """Read a generated rule file back as Prometheus would see its shape.

    Raises:
        InputError: not a mapping of uniquely named groups whose rules each
            have an ``expr`` and exactly one of ``record`` or ``alert``.
    """
    body = yaml.safe_load(text)
    if rule_format == "prometheus-rule" and isinstance(body, dict):
        body = body.get("spec")
    groups = body.get("groups") if isinstance(body, dict) else None
    if not isinstance(groups, list):
        raise InputError("the generated rule file holds no list of groups")
    names: set[object] = set()
    for group in groups:
        name = group.get("name") if isinstance(group, dict) else None
        if not isinstance(name, str) or name in names:
            raise InputError(f"the generated group name {name!r} is missing or twice")
        names.add(name)
        for rule in group.get("rules") or []:
            kinds = [k for k in ("record", "alert") if k in rule]
            if len(kinds) != 1 or not isinstance(rule.get("expr"), str):
                raise InputError(f"group {name!r} holds a malformed rule: {rule!r}")


def rule_file_text(
    slas: Sequence[Sla],
    stale_after_seconds: int,
    sla_url: str,
    warn: Callable[[str], None],
    rule_format: str = "prometheus",
    name: str = "monitoring-slas",
) -> str:
    """The checked rule file of validated SLAs, each with its own alerting.

    The one path of ``monitoring sla rules`` and of the live rule file of
    ``monitoring run`` (ADR 0048): conditions that can never fire are reported
    to ``warn``, the text is read back by :func:`check_rule_text`.
    """
    for sla in slas:
        _warn_unreachable(sla, warn)
    text = render(
        [(sla, sla.alerting) for sla in slas],
        stale_after_seconds,
        sla_url,
        rule_format,
        name,
    )
    check_rule_text(text, rule_format)
    return text


def write_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it there: never half a file.

    Raises:
        OSError: the directory cannot be written; ``path`` is unchanged then.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    # Prometheus reading the file meanwhile sees the old one or the new one.
    write_atomically(path, text)


def _sources(args: argparse.Namespace, connect: ClientFactory) -> list[_Source]:
    if args.file:
        if args.all and args.names:
            raise InputError("give NAME... or --all, not both")
        return _from_files(args)
    if args.all == bool(args.names):
        raise InputError("give NAME..., --all, or -f FILE")
    with connect(getattr(args, "address", None)) as client:
        return _from_manager(args, client)


def run(args: argparse.Namespace, connect: ClientFactory) -> int:
    """Run ``monitoring sla rules``; return the exit code."""

    def warn(text: str) -> None:
        print(f"monitoring sla rules: {text}", file=sys.stderr)

    try:
        try:
            stale = parse_duration(args.stale_after)
        except InvalidDuration as exc:
            raise InputError(f"--stale-after: {exc}") from None
        sources = _sources(args, connect)
        slas = [_validated(s) for s in sources]
        text = rule_file_text(slas, stale, args.sla_url, warn, args.format, args.name)
        _write(args.rules_file, text)
    except (InputError, ConfigError) as exc:
        warn(str(exc).replace("\n", " "))
        return 2
    except SlaCallError as exc:
        warn(str(exc))
        return 1
    except OSError as exc:
        warn(f"cannot write {args.rules_file}: {exc.strerror}")
        return 1
    return 0
