"""The ``monitoring`` command and its subcommands."""

import argparse
import os
import sys
from collections.abc import Sequence

from apps.logs import configure_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitoring",
        description="Statistics, metadata, forecasts and SLOs for Prometheus series.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    etl = commands.add_parser("etl", help="read Prometheus, publish results to Kafka")
    etl.add_argument(
        "--once",
        action="store_true",
        help="run one full cycle (with metadata) and exit; non-zero exit if it failed",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    configure_logging(os.environ.get("MONITORING_LOG_LEVEL", "INFO"))
    if args.command == "etl":
        from apps.etl.main import run

        return run(once=args.once)
    return 2


if __name__ == "__main__":
    sys.exit(main())
