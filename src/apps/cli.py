"""The ``monitoring`` command and its subcommands."""

import argparse
import os
import re
import sys
from collections.abc import Sequence

from apps.etl_shards import add_parser as add_etl_shards
from apps.logs import configure_logging
from apps.service_help import SERVICES, ServiceParser
from apps.settings import read_log_level
from apps.sla.client_cli import add_parser as add_sla_client

DURATION_FLAGS = ("--window", "--horizon", "--lookback")
"""Flags whose value may start with "-": `--horizon -1m` gets a clear refusal."""
_DASH_DIGIT = re.compile(r"-\d")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitoring",
        description="Statistics, metadata, forecasts and SLOs for Prometheus series.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=ServiceParser
    )
    etl = commands.add_parser("etl", help="read Prometheus, publish results to Kafka")
    etl.add_argument(
        "--once",
        action="store_true",
        help="run one full cycle (with metadata) and exit; non-zero exit if it failed",
    )
    commands.add_parser("storage", help="store the results topic in the database")
    commands.add_parser("api", help="serve stored results over HTTP (REST)")
    commands.add_parser(
        "run",
        help="all in one process: ETL, storage (SQLite), REST API, SLA manager",
    )
    commands.add_parser(
        "sla-manager", help="serve SLAs, violations and predictions over gRPC"
    )
    for name, settings in SERVICES.items():
        commands.choices[name].settings = settings
    add_sla_client(commands)
    add_etl_shards(commands)
    db = commands.add_parser(
        "db", help="database schema migrations (MONITORING_DATABASE_URL)"
    )
    actions = db.add_subparsers(dest="action", required=True)
    up = actions.add_parser("upgrade", help="migrate up (default: to the newest)")
    up.add_argument("revision", nargs="?", default="head")
    down = actions.add_parser("downgrade", help="migrate down to a revision")
    down.add_argument("revision", help="e.g. base, or -1")
    actions.add_parser("current", help="print the current revision")
    return parser


def _glued(argv: Sequence[str]) -> list[str]:
    """``--horizon -1m`` as ``--horizon=-1m``: argparse would take ``-1m`` for an
    option and say "expected one argument" instead of why the value is wrong."""
    glued: list[str] = []
    for token in argv:
        if glued and glued[-1] in DURATION_FLAGS and _DASH_DIGIT.match(token):
            glued[-1] = f"{glued[-1]}={token}"
        else:
            glued.append(token)
    return glued


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(_glued(sys.argv[1:] if argv is None else argv))
    configure_logging(read_log_level(os.environ))
    if args.command == "etl":
        from apps.etl.main import run

        return run(once=args.once)
    if args.command == "storage":
        from apps.storage.main import run as run_storage

        return run_storage()
    if args.command == "api":
        from apps.api.main import run as run_api

        return run_api()
    if args.command == "run":
        from apps.run.main import run as run_all

        return run_all()
    if args.command == "sla-manager":
        from apps.sla.main import run as run_sla_manager

        return run_sla_manager()
    if args.command == "etl-shards":
        from apps.etl_shards import run as run_etl_shards

        return run_etl_shards(args)
    if args.command == "sla":
        from apps.sla.client_cli import run as run_sla_client

        return run_sla_client(args)
    from apps.db import run as run_db

    return run_db(args.action, getattr(args, "revision", None))


if __name__ == "__main__":
    sys.exit(main())
