"""Benchmark of ``monitoring api``: GET /v1/series/{id}/values against MariaDB.

Usage: ``python bench/api.py [--series 1000] [--seconds 15] [--workers 2]
[--threads 2] [--rounds 3] [--no-write]``. Fills a private MariaDB with results of
``--series`` series, starts the real ``monitoring api`` (gunicorn gthread
workers) and drives it with ``wrk`` over random series ids, twice: with
``Cache-Control: no-cache``, so that every request reads MariaDB (the database
path), and as a plain client, whose reads the workers' short cache may answer.
MariaDB's own SELECT counter and the API's cache metrics show what each run
really read. In the same run, a minimal Falcon route (no database, same
gunicorn settings) gives the ceiling. Appends a section to ``bench/RESULTS.md``.
Needs the Debian package ``wrk``.

Two workers of two threads each gave the best p99 on a 2-core machine that
also runs MariaDB and wrk (more threads per worker mostly queue on the GIL);
``monitoring api`` itself defaults to four threads.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import attrs
import falcon
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import host  # noqa: E402

BIN = Path(sys.executable).parent
T = TypeVar("T", "Load", "Run")
RATE_TARGET, P99_TARGET_MS = 2000, 25.0


class _Ping:
    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


ceiling = falcon.App()
"""The ceiling: Falcon under the same gunicorn, no database, no middleware."""
ceiling.add_route("/ping", _Ping())


@attrs.frozen
class Load:
    """What wrk measured."""

    rate: float
    p99_ms: float
    requests: int

    @property
    def met(self) -> bool:
        return self.rate >= RATE_TARGET and self.p99_ms <= P99_TARGET_MS


@attrs.frozen
class Run:
    """A wrk run against the API and what the server read meanwhile."""

    load: Load
    selects: int
    """SELECT statements MariaDB executed during the run (its ``Com_select``)."""
    hits: float
    misses: float

    @property
    def selects_per_request(self) -> float:
        return self.selects / max(self.load.requests, 1)

    @property
    def hit_ratio(self) -> float:
        return self.hits / max(self.hits + self.misses, 1)


def wrk(url: str, seconds: int, script: Path | None) -> Load:
    """Requests/s, p99 latency in ms and the number of requests."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    print(out, flush=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    return Load(rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], count)


def lua(ids: list[str], folder: Path, fresh: bool) -> Path:
    """A wrk script that asks for the values of a random series each time.

    ``fresh``: every request says ``Cache-Control: no-cache``.
    """
    path = folder / ("fresh.lua" if fresh else "plain.lua")
    listed = ",".join(f'"{i}"' for i in ids)
    headers = '{["Cache-Control"] = "no-cache"}' if fresh else "nil"
    path.write_text(
        f"local ids = {{{listed}}}\n"
        "request = function()\n"
        '  local path = "/v1/series/" .. ids[math.random(#ids)] .. "/values"\n'
        f'  return wrk.format("GET", path, {headers})\n'
        "end\n"
    )
    return path


def cache_lookups(base: str) -> tuple[float, float]:
    """Hits and misses of the workers' caches so far, from ``/metrics``."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    found = dict.fromkeys(("hit", "miss"), 0.0)
    pattern = r'monitoring_api_cache_lookups_total\{result="(hit|miss)"\} (\S+)'
    for result, value in re.findall(pattern, text):
        found[result] += float(value)
    return found["hit"], found["miss"]


def measured(base: str, seconds: int, script: Path, selects: Callable[[], int]) -> Run:
    """A wrk run, with MariaDB's SELECT count and the cache lookups around it."""
    wrk(base, 2, script)  # warm-up: connection pools, caches
    selected, looked = selects(), cache_lookups(base)
    load = wrk(base, seconds, script)
    hits, misses = (b - a for a, b in zip(looked, cache_lookups(base), strict=True))
    return Run(load, selects() - selected, hits, misses)


def select_counter(url: str) -> tuple[Callable[[], int], Callable[[], None]]:
    """A reader of MariaDB's global ``Com_select`` and a function to close it."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def read() -> int:
        with engine.connect() as connection:
            row = connection.exec_driver_sql("SHOW GLOBAL STATUS LIKE 'Com_select'")
            return int(row.one()[1])

    return read, engine.dispose


def median(loads: list[T]) -> T:
    """The middle of the runs by rate (the slower one of an even count)."""
    return sorted(loads, key=_rate)[(len(loads) - 1) // 2]


def _rate(item: Load | Run) -> float:
    return item.rate if isinstance(item, Load) else item.load.rate


def run_ceiling(
    port: int, seconds: int, workers: int, threads: int, rounds: int
) -> list[Load]:
    command = [
        str(BIN / "gunicorn"),
        "--chdir", str(ROOT / "bench"),
        "-w", str(workers), "-k", "gthread", "--threads", str(threads),
        "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        "api:ceiling",
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        time.sleep(2)
        wrk(f"http://127.0.0.1:{port}/ping", 2, None)  # warm-up
        url = f"http://127.0.0.1:{port}/ping"
        return [wrk(url, seconds, None) for _ in range(rounds)]
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from adapters.sql import migrate
    from adapters.sql.result_store import sql_store
    from tests.integration.test_api_schemathesis import running_api, sample_results
    from tests.support.mariadb import private_mariadb
    from tests.support.prometheus import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = sample_results(args.series)
    ids = sorted({r.series.id for r in results if hasattr(r, "series")})
    settings = {
        "MONITORING_API_WORKERS": str(args.workers),
        "MONITORING_API_THREADS": str(args.threads),
    }
    with private_mariadb() as db, tempfile.TemporaryDirectory() as folder:
        migrate.upgrade(db.url)
        with sql_store(db.url) as store:
            store.write(results)
        scripts = lua(ids, Path(folder), True), lua(ids, Path(folder), False)
        selects, close = select_counter(db.url)
        fresh: list[Run] = []
        plain: list[Run] = []
        try:
            with running_api(db.url, settings) as base:
                for _ in range(args.rounds):  # interleaved: noise hits both alike
                    fresh.append(measured(base, args.seconds, scripts[0], selects))
                    plain.append(measured(base, args.seconds, scripts[1], selects))
        finally:
            close()
    top = run_ceiling(
        free_port(), args.seconds, args.workers, args.threads, args.rounds
    )
    report = render(args, len(ids), fresh, plain, top)
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


def machine() -> str:
    return f"{host.cpu()}, Python {sys.version.split()[0]}"


def _rates(runs: list[Load] | list[Run]) -> str:
    return " / ".join(f"{_rate(r):,.0f}" for r in runs)


def _row(label: str, runs: list[Run], top: Load) -> str:
    run = median(runs)
    load = run.load
    return (
        f"| {label} | **{load.rate:,.0f}** | **{load.p99_ms:.1f} ms** "
        f"| {load.rate / top.rate:.0%} | {run.selects_per_request:.2f} "
        f"| {run.hit_ratio:.0%} | {'met' if load.met else 'missed'} "
        f"| {_rates(runs)} |"
    )


def render(
    args: argparse.Namespace,
    n: int,
    fresh: list[Run],
    plain: list[Run],
    tops: list[Load],
) -> str:
    from apps.api.config import DEFAULT_CACHE_SECONDS as CACHE_SECONDS

    top = median(tops)

    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    setting = f"{args.workers} gthread workers x {args.threads} threads"
    return f"""
## REST API, GET /v1/series/{{id}}/values on MariaDB ({when})

Machine: {machine()}; MariaDB 10.11, wrk (2 threads, 16 connections, keep-alive)
and the server share the machine. Server: `monitoring api`, gunicorn with {setting},
{n} series with 2 windows each, a random id per request (one indexed SELECT joining
the series to its newest statistics, JSON, ETag, metrics middleware). Ceiling: a
minimal Falcon route without database under the same gunicorn settings.
{args.rounds} rounds of {args.seconds} s, the two API runs interleaved; each row
shows its median round (by rate) and lists every round's rate. "SELECTs/request"
is MariaDB's own `Com_select` count over the run divided by the requests wrk
completed; "cache hits" comes from the API's `monitoring_api_cache_lookups_total`.
"of ceiling" is the rate over the ceiling's median.

| run | requests/s | p99 latency | of ceiling | SELECTs/request | cache hits | target | rounds, requests/s |
|---|---|---|---|---|---|---|---|
{_row("database path: `Cache-Control: no-cache`, every request reads MariaDB", fresh, top)}
{_row(f"default client: the workers' {CACHE_SECONDS:g} s cache may answer", plain, top)}
| ceiling: minimal Falcon route | {top.rate:,.0f} | {top.p99_ms:.1f} ms | 100% | 0 | - | - | {_rates(tops)} |

Target: >= {RATE_TARGET:,} requests/s with p99 <= {P99_TARGET_MS:.0f} ms.
"""


if __name__ == "__main__":
    main()
