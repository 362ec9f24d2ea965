"""Benchmark of GetViolations (1h, 3h, 12h) for a 50-objective SLA against its floor.

Usage: ``python bench/sla_violations.py [--objectives 50] [--scrape 15] [--no-write]``.
It backfills a private Prometheus with promtool (one gauge per objective, one
sample every ``--scrape`` seconds for 12 h 40 min), stores the SLA in a fresh
SQLite database and measures in the same run:

- the floor: the time Prometheus alone needs to hand over the raw 12 h samples
  of the same series in one query, uncompressed, body read but not parsed
  (and, for comparison, one query per objective);
- ``SlaJudgement.violations`` through the real adapters (SQLite repository,
  Prometheus over HTTP): warm (the minute refresh: the clock one minute on
  since the last call, settled slices kept), cold (a new judgement: nothing
  kept), cold with every slice summed up by Prometheus, and the path before
  issue 14 (gzip, JSON, slicing in Python, nothing kept); the last three must
  give equal results.

Every figure is a median of several runs (the floors: the best of five). The
report is appended to ``bench/RESULTS.md`` unless ``--no-write``.
"""

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from etl_cycle import machine  # noqa: E402

from tests.support.prometheus import backfill_file, private_prometheus  # noqa: E402

WINDOWS = (3600, 3 * 3600, 12 * 3600)
HOURS = 12
EXTRA = 40 * 60
"""Data after the cold call's time: the warm refreshes move the clock into it."""
NAME = "bench_sla_value"


def write_openmetrics(path: Path, series: int, scrape: int, end: int) -> None:
    """Gauges swinging around 50 that leave ``[20, 80]`` now and then."""
    rng = random.Random(14)
    steps = (HOURS * 3600 + EXTRA) // scrape
    with path.open("w") as out:
        out.write(f"# TYPE {NAME} gauge\n")
        for i in range(series):
            period = rng.uniform(1800, 7200)
            for s in range(steps + 1):
                t = end - (steps - s) * scrape
                value = 50 + 28 * math.sin(2 * math.pi * t / period) + rng.gauss(0, 3)
                out.write(f'{NAME}{{instance="i{i:03d}"}} {value!r} {t}\n')
        out.write("# EOF\n")


def floor_ms(url: str, series: int, at: float, together: bool) -> float:
    """Prometheus handing over the raw 12 h samples, bodies read, not parsed."""
    import requests

    session = requests.Session()
    session.headers["Accept-Encoding"] = "identity"  # as the adapter reads them
    window = f"{HOURS * 3600 * 1000}ms"
    if together:
        queries = [f'{NAME}{{instance=~"i.*"}}[{window}]']
    else:
        queries = [f'{NAME}{{instance="i{i:03d}"}}[{window}]' for i in range(series)]
    started = time.perf_counter()
    for query in queries:
        form = {"query": query, "time": f"{at - 0.001:.3f}"}
        body = session.post(f"{url}/api/v1/query", data=form, timeout=60).content
        assert b'"success"' in body[:40], body[:300]
    return 1000 * (time.perf_counter() - started)


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    """The median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


class BeforeIssue14:
    """The sample source as it was before issue 14, for comparison: raw
    samples through the JSON client (gzip), sliced by the domain's code."""

    def __init__(self, http: Any) -> None:
        from adapters.prometheus.client import PrometheusHttp

        self._http: PrometheusHttp = http

    def samples(self, selector: Any, start: datetime, end: datetime) -> Any:
        raise NotImplementedError

    def slice_stats(
        self, selectors: Any, start: datetime, end: datetime, slice_seconds: int
    ) -> Any:
        from monitoring_core.series import SeriesKey
        from monitoring_core.slo import SeriesSliceStats, slice_stats

        lo, hi = start.timestamp(), end.timestamp()
        out = []
        for selector in selectors:
            found = self._http.query(
                f"{selector.to_promql()}[{round((hi - lo) * 1000)}ms]",
                datetime.fromtimestamp(hi - 0.001, UTC),
            )
            answers = []
            for item in found:
                values = tuple(
                    (float(t), float(v))
                    for t, v in item.get("values", [])
                    if not math.isnan(float(v)) and lo <= float(t) < hi
                )
                if values:
                    answers.append(
                        SeriesSliceStats(
                            key=SeriesKey.from_prometheus(item["metric"]),
                            stats=slice_stats(values, lo, hi, slice_seconds),
                        )
                    )
            out.append(sorted(answers, key=lambda a: a.key.canonical))
        return out


def measure(url: str, args: argparse.Namespace, work: Path, end: int) -> dict[str, Any]:
    from adapters.in_memory.clock import FixedClock
    from adapters.prometheus.client import PrometheusHttp
    from adapters.prometheus.metric_source import PrometheusMetricSource
    from adapters.prometheus.sample_source import PrometheusSampleSource
    from adapters.sql import migrate
    from adapters.sql.engine import make_engine
    from adapters.sql.sla_repository import SqlSlaRepository
    from monitoring_core.services.sla_definitions import SlaDefinitions
    from monitoring_core.services.sla_judgement import SlaJudgement
    from monitoring_core.sla import ObjectiveDraft, SlaDraft, SlaLimits

    now = end - EXTRA + 30  # mid-slice: the window ends at the last whole minute
    clock = FixedClock(datetime.fromtimestamp(now, UTC))
    db = f"sqlite:///{work / 'sla.db'}"
    migrate.upgrade(db)
    http = PrometheusHttp(url, 60)
    definitions = SlaDefinitions(
        SqlSlaRepository(make_engine(db), clock),
        PrometheusMetricSource(http),
        clock,
        SlaLimits(max_objectives=max(args.objectives, 1000)),
    )
    definitions.apply(
        SlaDraft(
            name="bench",
            objectives=tuple(
                ObjectiveDraft(
                    selector=f'{NAME}{{instance="i{i:03d}"}}',
                    lo=20.0,
                    hi=80.0,
                    target=0.99,
                    window="12h",
                    slice="1m",
                )
                for i in range(args.objectives)
            ),
        )
    )
    samples = PrometheusSampleSource(http)

    def judgement(source: Any = samples, **options: Any) -> SlaJudgement:
        return SlaJudgement(definitions, source, clock, **options)

    def cold() -> Any:
        return judgement().violations("bench", WINDOWS)

    def grid() -> Any:
        everything = PrometheusSampleSource(http, grid_slices=10**9)
        return judgement(everything).violations("bench", WINDOWS)

    def before() -> Any:
        never = judgement(BeforeIssue14(http), settle_seconds=10**9)
        return never.violations("bench", WINDOWS)

    warm_judgement = judgement()
    warm_judgement.violations("bench", WINDOWS)

    def warm() -> Any:
        clock.advance(60)
        return warm_judgement.violations("bench", WINDOWS)

    first = cold()
    same = first == before() == grid()
    reports = [s.report for o in first for s in o.windows[-1].series]
    bad_share = sum(r.bad_slices for r in reports) / sum(
        r.measured_slices for r in reports
    )
    # Prometheus' page cache and our imports warmed up once.
    cold(), before()
    floor_each = min(
        floor_ms(url, args.objectives, now // 60 * 60, False) for _ in range(5)
    )
    floor_all = min(
        floor_ms(url, args.objectives, now // 60 * 60, True) for _ in range(5)
    )
    result = {
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "floor_each_ms": floor_each,
        "floor_all_ms": floor_all,
        "cold_ms": median_ms(cold, args.repeat),
        "before_ms": median_ms(before, args.repeat),
        "grid_ms": median_ms(grid, args.repeat),
        "same": same,
        "bad_share": bad_share,
    }
    result["warm_ms"] = median_ms(warm, min(args.repeat * 3, EXTRA // 60 - 5))
    return result


def render(args: argparse.Namespace, r: dict[str, Any]) -> str:
    floor = r["floor_all_ms"]
    warm_runs = min(args.repeat * 3, EXTRA // 60 - 5)

    def row(name: str, ms: float, target: str = "") -> str:
        return f"| {name} | {ms:.1f} | {ms / floor:.2f}x | {target} |\n"

    return f"""
## SLA violations, {args.objectives} objectives x 12 h at {args.scrape} s ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)

Machine: {machine()}.
Data: {args.objectives} gauges, one sample every {args.scrape} s for 12 h 40 min, backfilled
with promtool; one SLA in SQLite with one objective per gauge (`[20, 80]`, 1-minute slices,
{r["bad_share"]:.0%} of them bad). `SlaJudgement.violations` over 1h, 3h and 12h through the real
adapters, median of {args.repeat} runs; warm: median of {warm_runs} refreshes, the clock one
minute on each time (the SLA manager's minute refresh). Floor: Prometheus handing over the
raw 12 h samples of the same series, bodies read, not parsed, uncompressed, best of 5.
Load average when measured: {r["load"]}.

| measure | ms | / floor | target |
|---|---|---|---|
{row("**floor**: raw 12 h samples of every series, one query", floor)}\
{row("raw 12 h samples, one query per objective", r["floor_each_ms"])}\
{row("**GetViolations, warm** (minute refresh, slices kept)", r["warm_ms"], "<= 2x")}\
{row("GetViolations, cold (nothing kept: first call, restart)", r["cold_ms"])}\
{row("cold, every slice summed up by Prometheus (the grid)", r["grid_ms"])}\
{row("the path before issue 14 (gzip, JSON, Python slicing, no cache)", r["before_ms"])}
The cold, grid and pre-issue-14 paths gave equal results: {r["same"]}.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", type=int, default=50)
    parser.add_argument("--scrape", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    end = int(time.time()) // 3600 * 3600
    with tempfile.TemporaryDirectory(prefix="bench-sla-") as tmp:
        work = Path(tmp)
        print(f"bench: writing {args.objectives} series ...", flush=True)
        write_openmetrics(work / "data.om", args.objectives, args.scrape, end)
        print("bench: backfilling with promtool ...", flush=True)
        backfill_file(work / "data.om", work / "data")
        with private_prometheus(work / "data", timeout=300) as url:
            result = measure(url, args, work, end)
    report = render(args, result)
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


if __name__ == "__main__":
    main()
