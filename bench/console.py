"""Benchmark of the web console's server time (issue 15): SLA detail and overview.

Usage: ``python bench/console.py [--objectives 50] [--slas 100] [--runs 15]
[--no-write]``. Everything runs in this process on the in-memory adapters (the
SLA manager's use cases over an in-memory sample source, the in-memory result
store), through the whole WSGI app (middleware, routing, templates) with
Falcon's test client, so the figures are the console's own server time without
Prometheus' or the database's; ``bench/sla_violations.py`` measures the
Prometheus path of the same judgement.

- SLA detail: one SLA of ``--objectives`` objectives, one gauge each, sampled
  every 15 s for 12 h 40 min, a stored forecast per series, ``range=12h``.
  Baseline in the same run: the use cases alone for the same page (the
  judgement's ``sliced_all`` and ``report``, the forecasts, the prediction
  score), without rendering.
- Overview: ``--slas`` SLAs of one objective each, after one state refresh.
  Baseline: the same rows as JSON (what a JSON route of that data would cost).
- Both pages again as ``monitoring api`` serves them (ADR 0056): the REST app
  reads the SLA pages through ``GrpcSlaConsole`` over a loopback gRPC channel
  to a server of the same SLA manager in this process, so the extra cost is
  the RPC, its protobuf encoding and decoding, and the conversion back.

Medians of ``--runs`` requests after one warm-up (the first call of the detail
page, which reads and judges every slice, is reported apart). Appends a
section to ``bench/RESULTS.md`` unless ``--no-write``.
"""

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import attrs  # noqa: E402
import host  # noqa: E402
from falcon import testing  # noqa: E402
from sla_violations import write_openmetrics  # noqa: E402

from adapters.grpc.client import SlaClient  # noqa: E402
from adapters.grpc.server import start_server  # noqa: E402
from adapters.grpc.service import SlaManagerServicer  # noqa: E402
from adapters.grpc.sla_console import GrpcSlaConsole  # noqa: E402
from adapters.in_memory.clock import FixedClock  # noqa: E402
from adapters.in_memory.metric_source import InMemoryMetricSource  # noqa: E402
from adapters.in_memory.prediction_log import InMemoryPredictionLog  # noqa: E402
from adapters.in_memory.result_store import InMemoryResultStore  # noqa: E402
from adapters.in_memory.sla_repository import InMemorySlaRepository  # noqa: E402
from adapters.prometheus.client import PrometheusHttp  # noqa: E402
from adapters.prometheus.metric_source import PrometheusMetricSource  # noqa: E402
from adapters.prometheus.sample_source import PrometheusSampleSource  # noqa: E402
from adapters.rest.api import create_app  # noqa: E402
from adapters.rest.ui import sla_views  # noqa: E402
from monitoring_core.forecasts import Forecast, ForecastPoint  # noqa: E402
from monitoring_core.series import SeriesKey  # noqa: E402
from monitoring_core.services.sla_console import SlaConsoleQueries  # noqa: E402
from monitoring_core.services.sla_judgement import aligned_end  # noqa: E402
from monitoring_core.services.sla_state import SlaStateService  # noqa: E402
from monitoring_core.sla import ObjectiveDraft, SlaDraft, SlaLimits  # noqa: E402
from tests.support.prometheus import backfill_file, private_prometheus  # noqa: E402
from tests.support.sla_services import sla_services  # noqa: E402

NAME = "bench_sla_value"
"""The gauges of bench/sla_violations.py, whose data writer this reuses."""
END = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
NOW = END + 25
SCRAPE = 15
RANGE = 12 * 3600
TARGET_MS = 300.0


def _key(i: int) -> SeriesKey:
    return SeriesKey.of(NAME, {"instance": f"i{i:03d}"})


def _samples(rng: random.Random) -> list[tuple[float, float]]:
    period = rng.uniform(1800, 7200)
    start = END - RANGE - 40 * 60
    steps = int((NOW - start) // SCRAPE)
    return [
        (
            start + s * SCRAPE,
            50 + 28 * math.sin(2 * math.pi * s * SCRAPE / period) + rng.gauss(0, 3),
        )
        for s in range(steps + 1)
    ]


def _forecast(key: SeriesKey) -> Forecast:
    points = tuple(
        ForecastPoint(
            timestamp=END + 60 * i + 30,
            mean=55.0,
            lower_80=50.0,
            upper_80=60.0,
            lower_95=45.0,
            upper_95=65.0,
        )
        for i in range(10)
    )
    return Forecast(
        series=key,
        made_at=datetime.fromtimestamp(END, UTC),
        step_seconds=60,
        model="bench",
        holdout_mae=1.0,
        points=points,
    )


@attrs.frozen(kw_only=True)
class Cases:
    """The SLA manager's use cases and the console's source over them."""

    services: Any
    console: SlaConsoleQueries
    clock: FixedClock


def world(
    series: int, slas: list[list[int]], prometheus: str | None = None, now: float = NOW
) -> tuple[Any, Cases, Any]:
    """A client of the console over ``series`` gauges and these SLAs.

    The samples are in memory, or on the Prometheus at ``prometheus``.
    """
    clock = FixedClock(datetime.fromtimestamp(now, UTC))
    store = InMemoryResultStore()
    source: Any
    samples: Any
    if prometheus is None:
        source = samples = InMemoryMetricSource()
        rng = random.Random(15)
        for i in range(series):
            source.add(_key(i), _samples(rng))
    else:
        http = PrometheusHttp(prometheus, 60)
        source, samples = PrometheusMetricSource(http), PrometheusSampleSource(http)
    store.write([_forecast(_key(i)) for i in range(series)])
    services = sla_services(
        repository=InMemorySlaRepository(clock),
        source=source,
        samples=samples,
        forecasts=store,
        clock=clock,
        limits=SlaLimits(max_objectives=200),
        predictions=InMemoryPredictionLog(),
    )
    for n, members in enumerate(slas):
        objectives = tuple(
            ObjectiveDraft(
                selector=f'{NAME}{{instance="i{i:03d}"}}',
                lo=20.0,
                hi=80.0,
                target=0.99,
                window="12h",
            )
            for i in members
        )
        services.definitions.apply(SlaDraft(name=f"sla-{n:03d}", objectives=objectives))
    state = SlaStateService(
        services.definitions, services.judgement, services.predictions, clock
    )
    state.refresh()
    console = SlaConsoleQueries(
        state, services.definitions, services.judgement, services.predictions, clock
    )
    client = testing.TestClient(create_app(store, clock, None, sla=console))
    return client, Cases(services=services, console=console, clock=clock), store


def over_grpc(path: str, cases: Cases, store: Any, runs: int) -> tuple[float, float]:
    """``path``'s first and median time when the SLA pages are read over gRPC."""
    s = cases.services
    servicer = SlaManagerServicer(
        s.definitions, s.judgement, s.predictions, cases.clock, cases.console
    )
    server = start_server(servicer, "127.0.0.1:0", workers=4)
    try:
        with SlaClient(f"127.0.0.1:{server.port}", timeout_seconds=60) as client:
            app = create_app(store, cases.clock, None, sla=GrpcSlaConsole(client))
            return timed(page(testing.TestClient(app), path), runs)
    finally:
        server.stop(grace_seconds=0)


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """The first call's and the median of ``runs`` further calls' milliseconds."""
    started = time.perf_counter()
    action()
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return first, statistics.median(times)


def page(client: Any, path: str) -> Callable[[], object]:
    def get() -> object:
        result = client.simulate_get(path)
        if result.status_code != 200:
            raise SystemExit(f"{path} answered {result.status_code}")
        return result

    return get


def detail_baseline(cases: Cases, store: Any, now: float = NOW) -> Callable[[], object]:
    """What the detail page reads, without rendering it."""
    use_cases = cases.services

    def read() -> object:
        sla = use_cases.definitions.get("sla-000")
        asked = []
        for objective in sla.objectives:
            end = aligned_end(datetime.fromtimestamp(now, UTC), objective.slice_seconds)
            asked.append((objective, end - RANGE, end))
        found = use_cases.judgement.sliced_all(asked)
        for objective, sliced in zip(sla.objectives, found, strict=True):
            for key, slices in sliced[: sla_views.MAX_CHARTED_SERIES]:
                use_cases.judgement.report(objective, slices)
                store.latest_forecast(key.id)
        return use_cases.predictions.score(sla.name)

    return read


def overview_baseline(cases: Cases) -> Callable[[], object]:
    def rows() -> object:
        found, _ = sla_views.overview(cases.console, "", "name")
        return json.dumps(found)

    return rows


def on_prometheus(args: argparse.Namespace) -> tuple[float, float, float]:
    """The detail page's first and median time, and its baseline's, on Prometheus."""
    import tempfile

    end = int(time.time()) // 3600 * 3600
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        work = Path(tmp)
        write_openmetrics(work / "data.om", args.objectives, SCRAPE, end)
        print("bench: backfilling with promtool ...", flush=True)
        backfill_file(work / "data.om", work / "data")
        with private_prometheus(work / "data", timeout=300) as url:
            now = end - 40 * 60 + 30  # as bench/sla_violations.py
            client, cases, store = world(
                args.objectives, [list(range(args.objectives))], url, now
            )
            first, median = timed(page(client, "/ui/sla/sla-000?range=12h"), args.runs)
            _, base = timed(detail_baseline(cases, store, now), args.runs)
    return first, median, base


def run(args: argparse.Namespace) -> str:
    detail_client, detail_cases, store = world(
        args.objectives, [list(range(args.objectives))]
    )
    path = "/ui/sla/sla-000?range=12h"
    detail_first, detail_ms = timed(page(detail_client, path), args.runs)
    _, detail_base = timed(detail_baseline(detail_cases, store), args.runs)
    size = len(detail_client.simulate_get(path).text)
    overview_client, overview_cases, overview_store = world(
        args.slas, [[i] for i in range(args.slas)]
    )
    overview_first, overview_ms = timed(page(overview_client, "/ui"), args.runs)
    _, overview_base = timed(overview_baseline(overview_cases), args.runs)
    listed = overview_client.simulate_get("/ui").text.count("<tr data-sla=")
    grpc_detail_first, grpc_detail = over_grpc(path, detail_cases, store, args.runs)
    grpc_overview_first, grpc_overview = over_grpc(
        "/ui", overview_cases, overview_store, args.runs
    )
    grpc_verdict = "met" if grpc_overview < TARGET_MS else "missed"
    verdict = "met" if overview_ms < TARGET_MS else "missed"
    real = ""
    if args.prometheus:
        p_first, p_ms, p_base = on_prometheus(args)
        real = (
            "| SLA detail baseline on Prometheus: the use cases alone "
            f"| {p_base:.1f} | 1.00x | |\n"
            f"| **SLA detail page on Prometheus**, `range=12h` | {p_ms:.1f} "
            f"| {p_ms / p_base:.2f}x | |\n"
            f"| SLA detail page on Prometheus, first call | {p_first:.1f} "
            f"| {p_first / p_base:.2f}x | |\n"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""
## Web console server time, SLA detail ({args.objectives} objectives x 12 h) and overview ({args.slas} SLAs) ({stamp})

Machine: {host.cpu()}, Python {sys.version.split()[0]}; load average {" ".join(f"{x:.2f}" for x in __import__("os").getloadavg())}.
In-process, the whole WSGI app through Falcon's test client, in-memory SLA repository and result store; the
samples in memory (the fake reads them by a linear scan) or, "on Prometheus", on a private Prometheus
backfilled with promtool as `bench/sla_violations.py` does. One gauge per objective sampled every 15 s for
12 h 40 min, `[20, 80]` at 99 % over 12h, 1-minute slices, a stored forecast per series.
Medians of {args.runs} requests after one warm-up; the first detail call reads and judges every slice (cold).

| measure | ms | / baseline | target |
|---|---|---|---|
| SLA detail baseline: the use cases alone (slices, reports, forecasts, score) | {detail_base:.1f} | 1.00x | |
| **SLA detail page**, `range=12h`, {args.objectives} objectives, {size // 1024} KiB of HTML | {detail_ms:.1f} | {detail_ms / detail_base:.2f}x | |
| SLA detail page, first call (nothing judged yet) | {detail_first:.1f} | {detail_first / detail_base:.2f}x | |
{real}| overview baseline: the same {args.slas} rows as JSON | {overview_base:.1f} | 1.00x | |
| **overview page**, {listed} SLAs | {overview_ms:.1f} | {overview_ms / overview_base:.2f}x | < {TARGET_MS:.0f} ms: {verdict} |
| overview page, first call | {overview_first:.1f} | {overview_first / overview_base:.2f}x | |
| SLA detail page **over gRPC** (`monitoring api`, ADR 0056) | {grpc_detail:.1f} | {grpc_detail / detail_base:.2f}x | |
| SLA detail page over gRPC, first call (judged already) | {grpc_detail_first:.1f} | {grpc_detail_first / detail_base:.2f}x | |
| overview page **over gRPC** (`monitoring api`) | {grpc_overview:.1f} | {grpc_overview / overview_base:.2f}x | < {TARGET_MS:.0f} ms: {grpc_verdict} |
| overview page over gRPC, first call | {grpc_overview_first:.1f} | {grpc_overview_first / overview_base:.2f}x | |
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", type=int, default=50)
    parser.add_argument("--slas", type=int, default=100)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--no-prometheus",
        dest="prometheus",
        action="store_false",
        help="skip the detail page on a private Prometheus (needs promtool)",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    report = run(args)
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


if __name__ == "__main__":
    main()
