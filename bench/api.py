"""Benchmark of ``monitoring api``: GET /v1/series/{id}/values against MariaDB.

Usage: ``python bench/api.py [--series 1000] [--seconds 15] [--no-write]``.
Fills a private MariaDB with results of ``--series`` series, starts the real
``monitoring api`` (gunicorn, 2 gthread workers) and drives it with ``wrk``
over random series ids; in the same run, a minimal Falcon route (no database,
same gunicorn settings) gives the ceiling. Appends a section to
``bench/RESULTS.md``. Needs the Debian package ``wrk``.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import falcon

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import host  # noqa: E402

BIN = Path(sys.executable).parent


class _Ping:
    def on_get(self, _req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


ceiling = falcon.App()
"""The ceiling: Falcon under the same gunicorn, no database, no middleware."""
ceiling.add_route("/ping", _Ping())


def wrk(url: str, seconds: int, script: Path | None) -> tuple[float, float]:
    """Requests/s and p99 latency in ms."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    print(out, flush=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return rate, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def lua(ids: list[str], folder: Path) -> Path:
    """A wrk script that asks for the values of a random series each time."""
    path = folder / "ids.lua"
    listed = ",".join(f'"{i}"' for i in ids)
    path.write_text(
        f"local ids = {{{listed}}}\n"
        "request = function()\n"
        '  return wrk.format("GET", "/v1/series/" .. ids[math.random(#ids)] .. "/values")\n'
        "end\n"
    )
    return path


def run_ceiling(port: int, seconds: int) -> tuple[float, float]:
    command = [
        str(BIN / "gunicorn"),
        "--chdir", str(ROOT / "bench"),
        "-w", "2", "-k", "gthread", "--threads", "4",
        "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        "api:ceiling",
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        time.sleep(2)
        wrk(f"http://127.0.0.1:{port}/ping", 2, None)  # warm-up
        return wrk(f"http://127.0.0.1:{port}/ping", seconds, None)
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
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = sample_results(args.series)
    ids = sorted({r.series.id for r in results if hasattr(r, "series")})
    with private_mariadb() as db, tempfile.TemporaryDirectory() as folder:
        migrate.upgrade(db.url)
        with sql_store(db.url) as store:
            store.write(results)
        script = lua(ids, Path(folder))
        with running_api(db.url) as base:
            wrk(base, 2, script)  # warm-up: connection pools, caches
            api = wrk(base, args.seconds, script)
    top = run_ceiling(free_port(), args.seconds)
    report = render(args, len(ids), api, top)
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


def machine() -> str:
    return f"{host.cpu()}, Python {sys.version.split()[0]}"


def render(
    args: argparse.Namespace, n: int, api: tuple[float, float], top: tuple[float, float]
) -> str:
    ok = api[0] >= 2000 and api[1] <= 25
    return f"""
## REST API, GET /v1/series/{{id}}/values on MariaDB ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

Machine: {machine()}; MariaDB 10.11, wrk (2 threads, 16 connections, keep-alive)
and the server share the machine. Server: `monitoring api`, gunicorn with 2 gthread
workers x 4 threads, {n} series with 2 windows each, a random id per request
(two indexed SELECTs, JSON, ETag, metrics middleware). Ceiling: a minimal Falcon
route without database under the same gunicorn settings. {args.seconds} s each.

| run | requests/s | p99 latency |
|---|---|---|
| /v1/series/{{id}}/values | **{api[0]:,.0f}** | **{api[1]:.1f} ms** |
| ceiling: minimal Falcon route | {top[0]:,.0f} | {top[1]:.1f} ms |

Ratio: the API serves **{api[0] / top[0]:.0%}** of the ceiling's rate.
Targets: >= 2,000 requests/s with p99 <= 25 ms: **{"met" if ok else "missed"}**.
"""


if __name__ == "__main__":
    main()
