"""Benchmark of the ETL's durable state (ADR 0047) at N series, against the
cycle's forecast step.

Usage: ``python bench/etl_state.py [--series 10000] [--cycles 8] [--no-write]``.

In one run: the real vectorized forecaster forecasts N synthetic series (6 h of
1-minute history, 10-minute horizon) once, timed: the baseline. Then the same
forecasts, shifted by one cycle (5 minutes) each time, go through
``ForecastLedger.score`` and ``remember`` for several cycles twice: with no
store (memory only, as before) and with the SQLite state file. The added time
per cycle is the time of the store's one write per cycle (timed inside the
store) and, as a check, the difference of the two ledgers' wall times. Also
timed: loading the steady-state file at start-up (open + read every pending
forecast), and its size. Results are appended to ``bench/RESULTS.md`` unless
``--no-write``.
"""

import argparse
import math
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

import host  # noqa: E402

from adapters.forecasting.ets import VectorizedEtsForecaster  # noqa: E402
from adapters.sql.etl_state import SqliteEtlState, open_etl_state  # noqa: E402
from monitoring_core.forecasts import Forecast  # noqa: E402
from monitoring_core.ports import ForecastKey  # noqa: E402
from monitoring_core.series import SeriesHistory, SeriesKey  # noqa: E402
from monitoring_core.services.forecast_ledger import ForecastLedger  # noqa: E402

STEP = 60
LOOKBACK = 6 * 3600
HORIZON_STEPS = 10
CYCLE = 300


def histories(series: int, end: float) -> list[SeriesHistory]:
    """Random walks and daily-ish waves, one value per minute up to ``end``."""
    rng = random.Random(7)
    n = LOOKBACK // STEP
    start = end - (n - 1) * STEP
    out = []
    for i in range(series):
        level, value, values = rng.uniform(1, 1000), 0.0, []
        for k in range(n):
            if i % 2:
                value += rng.gauss(0, 1)
                values.append(level + value)
            else:
                wave = 10 * math.sin(2 * math.pi * k / 240)
                values.append(level + wave + rng.gauss(0, 1))
        key = SeriesKey.of(f"bench_metric_{i % 100}", {"instance": f"host-{i}"})
        out.append(
            SeriesHistory(
                series=key, start=start, step_seconds=STEP, values=tuple(values)
            )
        )
    return out


def shifted(forecasts: Sequence[Forecast], seconds: int) -> list[Forecast]:
    """The same forecasts made ``seconds`` later."""
    return [
        attrs.evolve(
            f,
            made_at=f.made_at + timedelta(seconds=seconds),
            points=tuple(
                attrs.evolve(p, timestamp=p.timestamp + seconds) for p in f.points
            ),
        )
        for f in forecasts
    ]


def moved(items: Sequence[SeriesHistory], seconds: int) -> list[SeriesHistory]:
    return [attrs.evolve(h, start=h.start + seconds) for h in items]


class TimedStore:
    """The SQLite state, with the time of every ledger write recorded."""

    def __init__(self, store: SqliteEtlState) -> None:
        self.store = store
        self.writes: list[float] = []

    def pending_forecasts(self) -> list[Forecast]:
        return self.store.pending_forecasts()

    def update_forecasts(
        self, added: Sequence[Forecast], removed: Sequence[ForecastKey]
    ) -> None:
        started = time.perf_counter()
        self.store.update_forecasts(added, removed)
        self.writes.append(time.perf_counter() - started)

    def replace_forecasts(self, forecasts: Sequence[Forecast]) -> None:
        started = time.perf_counter()
        self.store.replace_forecasts(forecasts)
        self.writes.append(time.perf_counter() - started)

    def forecast_targets(self) -> Any:
        return self.store.forecast_targets()

    def save_forecast_targets(self, selectors: Sequence[Any]) -> None:
        self.store.save_forecast_targets(selectors)


def run_cycles(
    ledger: ForecastLedger,
    base: list[Forecast],
    past: list[SeriesHistory],
    cycles: int,
) -> list[float]:
    """Wall seconds of score + remember, per cycle."""
    made = base[0].made_at
    seconds = []
    for c in range(cycles):
        now = made + timedelta(seconds=CYCLE * c)
        forecasts = shifted(base, CYCLE * c) if c else base
        known = moved(past, CYCLE * c)
        started = time.perf_counter()
        ledger.score(known, now)
        ledger.remember(forecasts)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    end = now.timestamp()
    print(f"building {args.series} histories...", flush=True)
    past = histories(args.series, end)
    forecaster = VectorizedEtsForecaster()
    forecaster.forecast(past[:50], HORIZON_STEPS, now, {})  # warm up
    started = time.perf_counter()
    base = forecaster.forecast(past, HORIZON_STEPS, now, {})
    forecast_seconds = time.perf_counter() - started
    print(f"forecast step: {forecast_seconds:.2f} s for {len(base)}", flush=True)

    memory_walls = run_cycles(ForecastLedger(LOOKBACK), base, past, args.cycles)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "etl.sqlite"
        timed = TimedStore(open_etl_state(path))
        stored = ForecastLedger(LOOKBACK, timed)
        stored_walls = run_cycles(stored, base, past, args.cycles)
        pending = len(stored)
        timed.store.close()
        size = path.stat().st_size + sum(
            p.stat().st_size for p in path.parent.glob("etl.sqlite-*")
        )
        started = time.perf_counter()
        reopened = open_etl_state(path)
        loaded = ForecastLedger(LOOKBACK, reopened)
        load_seconds = time.perf_counter() - started
        reopened.close()
        assert len(loaded) == pending, (len(loaded), pending)

    steady = slice(3, None)  # from the 4th cycle, forecasts are added and scored
    write = statistics.median(timed.writes[steady])
    wall_added = statistics.median(
        s - m for s, m in zip(stored_walls[steady], memory_walls[steady], strict=True)
    )
    lines = [
        f"## ETL state, {args.series} series, SQLite file "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {host.cpu()}, Python {platform.python_version()}; the state file "
        "on the local disk (a temporary folder).",
        f"Forecast step: the vectorized ETS forecaster on {args.series} synthetic "
        f"series (6 h of 1-minute history, {HORIZON_STEPS}-step horizon), timed "
        f"once. Then {args.cycles} simulated cycles 5 minutes apart: score, then "
        "remember, with no store and with the SQLite file; from the 4th cycle each "
        f"write adds {len(base)} forecasts and forgets as many (scored), about "
        f"{pending} pending.",
        "",
        "| measure | seconds |",
        "|---|---|",
        f"| forecast step (baseline) | {forecast_seconds:.2f} |",
        f"| one ledger write per cycle (median, steady state) | {write:.3f} |",
        f"| score + remember, SQLite minus memory only (median) | {wall_added:.3f} |",
        f"| start-up: open the file and load {pending} pending forecasts | "
        f"{load_seconds:.3f} |",
        "",
        "| ratio | value |",
        "|---|---|",
        f"| ledger write / forecast step | {write / forecast_seconds:.3f} |",
        f"| state file size | {size / 2**20:.1f} MiB for {pending} forecasts |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write("\n" + report)


if __name__ == "__main__":
    main()
