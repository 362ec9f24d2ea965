"""``monitoring etl-shards``: which ETL worker owns which shard, and when each
shard was last analysed, read from the REST API (``GET /v1/etl/shards``).

A table by default, ``--output json`` for scripts; any failure is one line on
stderr and a non-zero exit (1 when the API cannot answer, 2 for bad input).
"""

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.rest.client import DEFAULT_API_URL, ApiCallError, ApiClient
from apps.env import ConfigError, Env
from apps.settings import read_api_token
from apps.sla.tables import minutes, table

_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
_SINCE = re.compile(r"(\d{1,9}(ms|s|m|h|d|w|y))+")


def add_parser(commands: Any) -> None:
    """Add ``etl-shards`` to the ``monitoring`` parser."""
    parser = commands.add_parser(
        "etl-shards",
        help="which ETL worker owns which shard, and when each was last analysed",
        description="Read GET /v1/etl/shards of the REST API (MONITORING_API_TOKEN "
        "is sent as the bearer token when set) and print the shards per worker "
        "and each shard's last analysis and its age.",
    )
    parser.add_argument(
        "--api",
        default=DEFAULT_API_URL,
        help=f"base URL of the REST API (default: {DEFAULT_API_URL})",
    )
    parser.add_argument(
        "--since", default="24h", help="read the ETL runs of this span (default: 24h)"
    )
    parser.add_argument(
        "--shards",
        type=int,
        help="the ETL's shard count (default: as the runs tell, else 64)",
    )
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table")


def _when(text: str | None) -> str:
    if text is None:
        return "never"
    moment = datetime.fromisoformat(text)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else minutes(max(seconds, 0.0))


def render(body: dict[str, Any]) -> str:
    """The answer as two tables: workers with their shard ranges, then shards."""
    counted = "" if body["complete"] else "; more runs than were read"
    head = (
        f"{body['shard_count']} shards ({body['shard_count_from']}), "
        f"{body['runs_read']} runs since {_when(body['since'])}{counted}"
    )
    workers = table(
        ("WORKER", "SHARDS", "RANGES"),
        [
            (w["worker"] or "(none)", str(w["shard_count"]), w["ranges"])
            for w in body["workers"]
        ],
    )
    shards = table(
        ("SHARD", "WORKER", "LAST ANALYSED", "AGE", "LAST RUN"),
        [
            (
                str(s["shard"]),
                s["worker"] or "-",
                _when(s["last_analysed_at"]),
                _age(s["age_seconds"]),
                s["last_run_id"] or "-",
            )
            for s in body["shards"]
        ],
    )
    return f"{head}\n\n{workers}\n\n{shards}"


def _checked(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, or None."""
    if not _URL.fullmatch(args.api):
        return f"--api {args.api!r}: must be an http:// or https:// URL"
    if not _SINCE.fullmatch(args.since):
        return f"--since {args.since!r}: must be a duration such as 1h or 24h"
    if args.shards is not None and not 1 <= args.shards <= 10_000:
        return f"--shards {args.shards}: must be 1 to 10000"
    return None


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> int:
    """Run ``monitoring etl-shards``; return the exit code."""
    wrong = _checked(args)
    if wrong is not None:
        print(f"monitoring etl-shards: {wrong}", file=sys.stderr)
        return 2
    env = Env()
    token = read_api_token(env)
    try:
        env.raise_if_invalid()
    except ConfigError as exc:
        print(f"monitoring etl-shards: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    try:
        body = ApiClient(args.api, token).etl_shards(args.since, args.shards)
    except ApiCallError as exc:
        print(f"monitoring etl-shards: {exc}", file=sys.stderr)
        return 1
    try:
        text = json.dumps(body, indent=2) if args.output == "json" else render(body)
    except (KeyError, TypeError, ValueError, AttributeError):
        print(
            f"monitoring etl-shards: {args.api} answered JSON that is not a shard "
            "report (is it the monitoring REST API?)",
            file=sys.stderr,
        )
        return 1
    out(text)
    return 0
