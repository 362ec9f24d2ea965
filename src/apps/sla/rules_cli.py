"""``monitoring sla rules``: Prometheus recording rules and alerts of SLAs.

The SLAs come from YAML files (``-f``, with their ``alerting`` sections) or from
the SLA manager (``NAME...`` or ``--all``; alerting defaults then, since the
manager does not store the section). The file is written whole or not at all.
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
    """One SLA to write rules for, with its alerting policy."""

    label: str
    sla: pb.Sla
    alerting: AlertingPolicy = attrs.field(factory=AlertingPolicy)


def _from_files(args: argparse.Namespace) -> list[_Source]:
    documents: list[tuple[str, SlaDocument]] = [
        (path, d) for path in args.file for d in read_slas(path)
    ]
    found = [_Source(f"{path}: {d.label}", d.sla, d.alerting) for path, d in documents]
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
    shown = ", ".join(sla.name for sla, _ in slas)
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


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    target = Path(path)
    # Written beside the target and renamed: Prometheus never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        slas = [(_validated(s), s.alerting) for s in sources]
        for sla, _ in slas:
            _warn_unreachable(sla, warn)
        text = render(slas, stale, args.sla_url, args.format, args.name)
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
