"""Benchmark of storage size: bytes on disk per row and per series per day.

Usage: ``python bench/storage_size.py [--series 100] [--hours 24] [--no-write]``
with ``MONITORING_TEST_DATABASE_URL`` set (``make services-up``).

It computes a day of results at the production cycle for N series, as the ETL
does with its defaults: every 5 minutes the window statistics (1 h, 3 h, 12 h)
of each series, a 10-minute forecast of 1-minute steps (the vectorized ETS
engine on the last 6 h, clamped like the ETL), the score of the forecast made
10 minutes earlier (against the values that then came), one ETL run row; and
metadata once a day (the sktime analyzer on 24 h of 5-minute steps). It writes
them, one cycle per transaction, into four fresh databases: MariaDB and SQLite,
each with the OLD encoding (schema 0003, forecast points as JSON text, written
by the 0003 row encoder kept in ``adapters.sql.legacy_points``) and with the
NEW one (schema head, ``SqlResultStore.write``). Then it measures, per table:
MariaDB ``data_length + index_length`` after ``ANALYZE TABLE`` and again after
``OPTIMIZE TABLE`` (plus the size of the table's ``.ibd`` file), SQLite's page
bytes from ``dbstat`` (table and its indexes) after ``VACUUM``. Bytes per
series per day are the sum over tables of bytes per row times the rows one
series adds in a day (ETL runs, one per cycle whatever the number of series,
are left out of that sum and shown apart). A second part writes forecasts of
the demo's configuration (5 s steps, 10-minute horizon: 120 points) the same
two ways. A section is appended to ``bench/RESULTS.md``.
"""

import argparse
import math
import os
import random
import sqlite3
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import host  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.dialects import mysql  # noqa: E402

from adapters.forecasting.ets import VectorizedEtsForecaster  # noqa: E402
from adapters.forecasting.metadata_analyzer import (  # noqa: E402
    SktimeMetadataAnalyzer,
)
from adapters.sql import migrate, rows, tables, upserts  # noqa: E402
from adapters.sql.batch import Batch  # noqa: E402
from adapters.sql.engine import make_engine  # noqa: E402
from adapters.sql.legacy_points import points_to_json  # noqa: E402
from adapters.sql.mysql_rows import execute_all  # noqa: E402
from adapters.sql.packed import pack_points  # noqa: E402
from adapters.sql.result_store import SqlResultStore  # noqa: E402
from monitoring_core.forecasts import Forecast, score_forecast  # noqa: E402
from monitoring_core.ports import Result  # noqa: E402
from monitoring_core.runs import EtlRun, Step, StepTiming  # noqa: E402
from monitoring_core.series import MetricKind, SeriesHistory, SeriesKey  # noqa: E402
from monitoring_core.value_domains import history_domain  # noqa: E402
from monitoring_core.windows import SeriesWindowStats, WindowStats  # noqa: E402
from tests.support.databases import throwaway_database  # noqa: E402
from tests.support.forecast_shapes import SHAPES, forecasts, shape  # noqa: E402

CYCLE, STEP, HORIZON, LOOKBACK = 300, 60, 10, 360
WINDOWS = (3600, 3 * 3600, 12 * 3600)
SCRAPE = 15
START = datetime(2026, 12, 3, tzinfo=UTC)
TABLES = ("window_stats", "forecasts", "forecast_scores", "metadata", "series")
Cycle = list[Result]
Writer = Callable[[Cycle], None]

OLD_FORECASTS = sa.Table(
    "forecasts",
    sa.MetaData(),
    *(c.copy() for c in tables.forecasts.columns if c.name != "points"),
    sa.Column("points", sa.Text(), nullable=False),
)
"""The columns of ``forecasts`` at schema 0003: points as JSON text."""


def day(series: int, hours: int) -> list[Cycle]:
    """The results of every cycle of ``hours`` for ``series`` series."""
    rng = random.Random(7)
    cycles = hours * 3600 // CYCLE
    steps = LOOKBACK + hours * 60 + 12 * 60  # room for the 12 h window
    keys = [
        SeriesKey.of("bench_metric", {"i": str(i), "shape": str(i % SHAPES)})
        for i in range(series)
    ]
    first = START.timestamp() - (12 * 60 + LOOKBACK) * STEP
    grid = np.array([shape(i % SHAPES, rng, steps) for i in range(series)])
    engine, made, out = VectorizedEtsForecaster(), {}, []
    for c in range(cycles):
        now = START + timedelta(seconds=c * CYCLE)
        end = int((now.timestamp() - first) // STEP)  # index of the last step
        results: Cycle = [
            _stats(k, now, grid[i, : end + 1]) for i, k in enumerate(keys)
        ]
        histories = [
            SeriesHistory(
                series=k,
                start=first + (end - LOOKBACK + 1) * STEP,
                step_seconds=STEP,
                values=tuple(grid[i, end - LOOKBACK + 1 : end + 1].tolist()),
            )
            for i, k in enumerate(keys)
        ]
        fresh = engine.forecast(histories, HORIZON, now, {})
        values = {h.series: h.values for h in histories}
        fresh = [history_domain(values[f.series]).clamp(f) for f in fresh]
        due = made.pop(c - 2, [])
        results += [s for f in due if (s := _score(f, histories, now)) is not None]
        made[c] = fresh
        results += fresh
        results.append(_run(c, now, series, len(results)))
        out.append(results)
    last = START + timedelta(seconds=(cycles - 1) * CYCLE)
    out[-1] += _metadata(keys, grid, first, last)
    return out


def _stats(key: SeriesKey, now: datetime, values: np.ndarray) -> SeriesWindowStats:
    """Statistics of the last 1 h, 3 h, 12 h of a 1-minute grid."""
    windows = []
    for seconds in WINDOWS:
        part = values[-seconds // STEP :]
        windows.append(
            WindowStats(
                window_seconds=seconds,
                count=seconds // SCRAPE,
                min=float(part.min()),
                max=float(part.max()),
                avg=float(part.mean()),
                stddev=float(part.std()),
                last=float(part[-1]),
                last_timestamp=now.timestamp() - random.Random(key.id).randint(0, 14),
            )
        )
    return SeriesWindowStats(
        series=key, kind=MetricKind.GAUGE, at=now, windows=tuple(windows)
    )


def _score(
    forecast: Forecast, histories: list[SeriesHistory], now: datetime
) -> Result | None:
    actual = next(h for h in histories if h.series == forecast.series)
    return score_forecast(forecast, actual, now)


def _run(c: int, now: datetime, series: int, results: int) -> EtlRun:
    steps = tuple(
        StepTiming(step=s, seconds=random.Random(c).uniform(0.1, 9)) for s in Step
    )
    return EtlRun(
        run_id=f"{START:%Y%m%d}-{c:04d}-{random.Random(c).getrandbits(64):016x}",
        started_at=now,
        finished_at=now + timedelta(seconds=12),
        ok=True,
        steps=steps,
        series_count=series,
        results_published=results,
    )


def _metadata(
    keys: list[SeriesKey], grid: np.ndarray, first: float, at: datetime
) -> list[Result]:
    end = int((at.timestamp() - first) // STEP)
    histories = [
        SeriesHistory(
            series=k,
            start=first + (end - 24 * 60 + 1) * STEP,
            step_seconds=300,
            values=tuple(grid[i, end - 24 * 60 + 1 : end + 1 : 5].tolist()),
        )
        for i, k in enumerate(keys)
    ]
    return list(SktimeMetadataAnalyzer().analyze(histories, at))


def new_writer(url: str) -> tuple[Writer, Callable[[], None]]:
    """The store as it is: schema head, ``SqlResultStore.write``."""
    migrate.upgrade(url)
    engine = make_engine(url)
    store = SqlResultStore(engine)
    return store.write, engine.dispose


def old_writer(url: str) -> tuple[Writer, Callable[[], None]]:
    """Schema 0003 and its JSON points: forecasts written by the 0003 row
    encoder into the 0003 table, everything else as the store writes it."""
    migrate.upgrade(url, "0003")
    engine = make_engine(url)
    store = SqlResultStore(engine)

    def write(results: Cycle) -> None:
        others = [r for r in results if not isinstance(r, Forecast)]
        store.write(others)
        made = [f for f in results if isinstance(f, Forecast)]
        old = sorted(
            (rows.forecast_row(f) | {"points": points_to_json(f.points)} for f in made),
            key=lambda r: (r["made_at"], r["series_id"]),
        )
        if not old:
            return
        with engine.begin() as connection:
            dialect = connection.dialect.name
            work = [
                (upserts.upsert_statement(dialect, table, keep), table, values)
                for table, keep, values in (
                    (tables.series, True, Batch(made).series(kind_known=False)),
                    (OLD_FORECASTS, False, old),
                )
            ]
            if dialect == "mysql":
                execute_all(connection, work)
            else:
                for insert, _, values in work:
                    connection.execute(insert, values)

    return write, engine.dispose


def mariadb_sizes(
    url: str, optimize: bool, names: Sequence[str] = TABLES
) -> dict[str, tuple[int, int]]:
    """By table: rows, data_length + index_length (off-page BLOB pages included:
    InnoDB allocates them in the clustered index's leaf segment)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    schema = sa.make_url(url).database
    out = {}
    try:
        with engine.connect() as connection:
            for table in names:
                if optimize:
                    connection.exec_driver_sql(f"OPTIMIZE TABLE `{table}`").all()
                connection.exec_driver_sql(f"ANALYZE TABLE `{table}`").all()
                count = connection.exec_driver_sql(
                    f"SELECT COUNT(*) FROM `{table}`"
                ).scalar_one()
                length = connection.execute(
                    sa.text(
                        "SELECT data_length + index_length FROM information_schema.tables "
                        "WHERE table_schema = :s AND table_name = :t"
                    ),
                    {"s": schema, "t": table},
                ).scalar_one()
                out[table] = (count, int(length))
    finally:
        engine.dispose()
    return out


def sqlite_sizes(
    path: Path, names: Sequence[str] = TABLES
) -> dict[str, tuple[int, int]]:
    """By table: rows, page bytes of the table and its indexes, after VACUUM."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("VACUUM")
        owner = dict(
            connection.execute("SELECT name, tbl_name FROM sqlite_master").fetchall()
        )
        pages: dict[str, int] = {}
        for name, size in connection.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
        ):
            table = owner.get(name, name)
            pages[table] = pages.get(table, 0) + size
        out = {}
        for table in names:
            count = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            out[table] = (count, pages[table])
        return out
    finally:
        connection.close()


@contextmanager
def databases(server: str, folder: Path) -> Iterator[dict[str, str]]:
    """Four empty databases: (MariaDB, SQLite) x (old, new)."""
    with (
        throwaway_database(server, "monitoring_bold") as old,
        throwaway_database(server, "monitoring_bnew") as new,
    ):
        yield {
            "mariadb old": old,
            "mariadb new": new,
            "sqlite old": f"sqlite:///{folder / 'old.db'}",
            "sqlite new": f"sqlite:///{folder / 'new.db'}",
        }


def fill(urls: dict[str, str], cycles: Sequence[Cycle]) -> dict[str, float]:
    """Write every cycle into each database; seconds taken by each."""
    took = {}
    for name, url in urls.items():
        write, close = (old_writer if name.endswith("old") else new_writer)(url)
        began = time.perf_counter()
        try:
            for results in cycles:
                write(results)
        finally:
            close()
        took[name] = time.perf_counter() - began
    return took


def measure(urls: dict[str, str]) -> dict[str, dict[str, tuple[int, int]]]:
    sizes = {}
    for name, url in urls.items():
        if name.startswith("mariadb"):
            sizes[f"{name} analyzed"] = mariadb_sizes(url, optimize=False)
            sizes[f"{name} optimized"] = mariadb_sizes(url, optimize=True)
        else:
            sizes[name] = sqlite_sizes(Path(sa.make_url(url).database or ""))
    return sizes


def per_row(found: tuple[int, int]) -> float:
    return found[1] / found[0] if found[0] else 0.0


PER_SERIES_DAY = {
    "window_stats": 24 * 3600 // CYCLE * len(WINDOWS),
    "forecasts": 24 * 3600 // CYCLE,
    "forecast_scores": 24 * 3600 // CYCLE,
    "metadata": 1,
    "series": 0,
}
"""Rows one series adds per day at the production defaults: a cycle every 5 min
(MONITORING_CYCLE_SECONDS=300) with three windows, each forecast scored once,
metadata daily (MONITORING_METADATA_SECONDS=86400); its ``series`` row is
written once and kept."""


def render(
    args: argparse.Namespace,
    sizes: dict[str, dict[str, tuple[int, int]]],
    took: dict[str, float],
    demo: dict[str, dict[str, tuple[int, int]]],
    demo_count: int,
) -> str:
    now = datetime.now(UTC)
    lines = [
        f"\n## Storage size, {args.series} series x {args.hours} h at the production "
        f"cycle ({now:%Y-%m-%d %H:%M} UTC)\n",
        f"Machine: {host.cpu()}, Python {sys.version.split()[0]}; MariaDB "
        f"{_mariadb_version(args.server)} (InnoDB, DYNAMIC rows, 16 KiB pages), SQLite "
        f"{sqlite3.sqlite_version} (4 KiB pages).",
        f"Data: {args.series} series of six shapes; every 5 min: window statistics "
        "(1 h, 3 h, 12 h), a forecast of 10 points of 1 min (the production defaults "
        "MONITORING_FORECAST_HORIZON=10m, MONITORING_FORECAST_STEP=1m), the score "
        "of the forecast made 10 min before, one ETL run; metadata once a day. "
        "Same results, same run, written with the OLD encoding (schema 0003, points "
        "as JSON text) and the NEW one (schema 0004, packed points). Writing took "
        + ", ".join(f"{k} {v:.1f} s" for k, v in took.items())
        + ".\n",
        "Bytes on disk per row (MariaDB: data_length + index_length after ANALYZE "
        "TABLE, then after OPTIMIZE TABLE; SQLite: dbstat page bytes of the table and "
        "its index after VACUUM):\n",
        "| table | rows per series per day | MariaDB old | MariaDB new | ratio | MariaDB "
        "old, optimized | new, optimized | ratio | SQLite old | SQLite new | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    per_day = PER_SERIES_DAY
    totals: dict[str, float] = {}
    columns = (
        ("mariadb old analyzed", "mariadb new analyzed"),
        ("mariadb old optimized", "mariadb new optimized"),
        ("sqlite old", "sqlite new"),
    )
    for table in TABLES:
        cells = [table, f"{per_day[table]:,.1f}"]
        for old, new in columns:
            a, b = per_row(sizes[old][table]), per_row(sizes[new][table])
            cells += [f"{a:,.0f}", f"{b:,.0f}", f"{a / b:.1f}x" if b else "-"]
            totals[old] = totals.get(old, 0) + a * per_day[table]
            totals[new] = totals.get(new, 0) + b * per_day[table]
        lines.append("| " + " | ".join(cells) + " |")
    cells = ["**per series per day**", ""]
    for old, new in columns:
        a, b = totals[old], totals[new]
        cells += [f"**{_kib(a)}**", f"**{_kib(b)}**", f"**{a / b:.1f}x**"]
    lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *_days(sizes, per_day)]
    lines += _demo(demo, demo_count)
    return "\n".join(lines) + "\n"


def _days(
    sizes: dict[str, dict[str, tuple[int, int]]], per_day: dict[str, float]
) -> list[str]:
    """ETL runs, and the day of 10,000 series."""
    out = []
    runs = 24 * 3600 // CYCLE
    out.append(
        f"ETL runs are {runs} rows a day whatever the number of series (left out "
        "above). At 10,000 series the NEW encoding stores about "
        f"{_gib(sum(per_row(sizes['mariadb new optimized'][t]) * per_day[t] for t in TABLES) * 10_000)}"
        " a day on MariaDB (the OLD one "
        f"{_gib(sum(per_row(sizes['mariadb old optimized'][t]) * per_day[t] for t in TABLES) * 10_000)}"
        "), before the 30-day retention (MONITORING_RETENTION) prunes it."
    )
    return out


def _demo(demo: dict[str, dict[str, tuple[int, int]]], count: int) -> list[str]:
    lines = [
        f"\nForecasts of the demo configuration ({count} forecasts of 120 points: "
        "MONITORING_FORECAST_STEP=5s over 10 min), same run, bytes on disk per "
        "forecast row:\n",
        "| database | OLD (JSON text) | NEW (packed) | ratio |",
        "|---|---|---|---|",
    ]
    for label, old, new in (
        ("MariaDB, after ANALYZE", "mariadb old analyzed", "mariadb new analyzed"),
        ("MariaDB, after OPTIMIZE", "mariadb old optimized", "mariadb new optimized"),
        ("SQLite, after VACUUM", "sqlite old", "sqlite new"),
    ):
        a = per_row(demo[old]["forecasts"])
        b = per_row(demo[new]["forecasts"])
        lines.append(f"| {label} | {a:,.0f} | {b:,.0f} | **{a / b:.1f}x** |")
    return lines


def render_options(
    options: dict[str, dict[str, tuple[int, int]]],
    sizes: dict[str, dict[str, tuple[int, int]]],
    demo_sizes: dict[str, dict[str, tuple[int, int]]],
    values: dict[str, dict[str, float]],
) -> str:
    """Options measured in the same run, not adopted (ADR 0019)."""
    windows = len(WINDOWS)
    lines = [
        "\nOptions measured in the same run, not adopted (see ADR 0019):\n",
        "| option | MariaDB, bytes per row | SQLite, bytes per row |",
        "|---|---|---|",
    ]
    for db, new in (("mariadb", "mariadb new optimized"),):
        now_ws = per_row(sizes[new]["window_stats"]) * windows
        packed = per_row(options[db]["window_stats_packed"])
        lite_now = per_row(sizes["sqlite new"]["window_stats"]) * windows
        lite = per_row(options["sqlite"]["window_stats_packed"])
        lines.append(
            f"| window statistics as one row per evaluation, {windows} windows packed "
            f"(now {windows} rows: {now_ws:,.0f} / {lite_now:,.0f} bytes) "
            f"| {packed:,.0f} ({now_ws / packed:.1f}x) | {lite:,.0f} "
            f"({lite_now / lite:.1f}x) |"
        )
    for table, what in (("window_stats", ""), ("forecasts", " (10 points, packed)")):
        before = per_row(sizes["mariadb new optimized"][table])
        after = per_row(options["compressed"][table])
        lines.append(
            f"| InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8, {table}{what} "
            f"| {after:,.0f} (was {before:,.0f}) | - |"
        )
    demo = per_row(options["demo compressed"]["forecasts"])
    was = per_row(demo_sizes["mariadb new optimized"]["forecasts"])
    lines.append(
        f"| InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8, forecasts (120 points, "
        f"packed) | {demo:,.0f} (was {was:,.0f}) | - |"
    )
    lines += [
        "\nMean bytes of the points value alone (no row around it):\n",
        "| points | JSON text (old) | packed, lossless (new) | float32 + zlib (lossy) |",
        "|---|---|---|---|",
    ]
    for n, found in values.items():
        if found:
            lines.append(
                f"| {n} | {found['json']:,.0f} | {found['packed']:,.0f} "
                f"| {found['float32']:,.0f} |"
            )
    return "\n".join(lines) + "\n"


def _kib(n: float) -> str:
    return f"{n / 1024:,.1f} KiB"


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def _mariadb_version(server: str) -> str:
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SELECT VERSION()").scalar_one())
    finally:
        engine.dispose()


def demo_cycles(series: int, cycles: int) -> list[Cycle]:
    """Forecasts of 120 points of 5 s, one per series per cycle."""
    made = forecasts(series, 120, 5)
    out = []
    for c in range(cycles):
        shift = timedelta(seconds=c * CYCLE)
        out.append([_shifted(f, shift) for f in made])
    return out


def _shifted(forecast: Forecast, by: timedelta) -> Forecast:
    """The same forecast made ``by`` later (its points' times moved with it)."""
    seconds = by.total_seconds()
    points = tuple(
        attrs.evolve(p, timestamp=p.timestamp + seconds) for p in forecast.points
    )
    return attrs.evolve(forecast, made_at=forecast.made_at + by, points=points)


# Options measured but not adopted (ADR 0019): what each would buy.

WINDOWS_PACKED = sa.Table(
    "window_stats_packed",
    sa.MetaData(),
    sa.Column("series_id", sa.CHAR(16), nullable=False),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column(
        "windows",
        sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql"),
        nullable=False,
    ),
    sa.PrimaryKeyConstraint("at", "series_id"),
    sa.Index("ix_window_stats_packed_series_id_at", "series_id", "at"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
    mysql_collate="utf8mb4_bin",
)
"""Option: one row per evaluation, its windows packed (a prototype)."""

_WINDOW = struct.Struct("<iiddddd")


def _packed_windows(result: SeriesWindowStats) -> bytes:
    """Each window's numbers as doubles (NaN for no value: a prototype, not
    lossless for a stored NaN) and the last sample's time once."""
    nan = math.nan
    parts = [
        _WINDOW.pack(
            w.window_seconds,
            w.count,
            *(nan if v is None else v for v in (w.min, w.max, w.avg, w.stddev, w.last)),
        )
        for w in result.windows
    ]
    stamp = result.windows[0].last_timestamp
    return b"".join(parts) + struct.pack("<d", nan if stamp is None else stamp)


def windows_option(url: str, cycles: Sequence[Cycle]) -> None:
    """Write every cycle's statistics one row per evaluation."""
    engine = make_engine(url)
    try:
        WINDOWS_PACKED.create(engine)
        for results in cycles:
            stats = [r for r in results if isinstance(r, SeriesWindowStats)]
            values = [
                {
                    "series_id": rows.series_id(r.series),
                    "at": rows.ms(r.at),
                    "kind": r.kind.value,
                    "windows": _packed_windows(r),
                }
                for r in stats
            ]
            with engine.begin() as connection:
                connection.execute(sa.insert(WINDOWS_PACKED), values)
    finally:
        engine.dispose()


def compressed_option(url: str) -> dict[str, tuple[int, int]]:
    """MariaDB: window_stats and forecasts rebuilt ROW_FORMAT=COMPRESSED."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            for table in ("window_stats", "forecasts"):
                connection.exec_driver_sql(
                    f"ALTER TABLE {table} ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8"
                )
    finally:
        engine.dispose()
    return mariadb_sizes(url, optimize=False, names=("window_stats", "forecasts"))


def value_sizes(cycles: Sequence[Cycle]) -> dict[str, float]:
    """Mean bytes of a forecast's points value, without any row around it:
    JSON text, packed, and (lossy, for comparison) float32 zlib'd."""
    made = [r for c in cycles for r in c if isinstance(r, Forecast)]
    if not made:
        return {}
    text = sum(len(points_to_json(f.points)) for f in made)
    packed = sum(len(pack_points(f.points, f.step_seconds)) for f in made)
    single = sum(
        len(zlib.compress(struct.pack(f"<{5 * len(f.points)}f", *_values(f)), 6))
        for f in made
    )
    return {
        "json": text / len(made),
        "packed": packed / len(made),
        "float32": single / len(made),
    }


def _values(forecast: Forecast) -> list[float]:
    return [
        v
        for p in forecast.points
        for v in (p.mean, p.lower_80, p.upper_80, p.lower_95, p.upper_95)
    ]


def migration(urls: dict[str, str], cycles: Sequence[Cycle]) -> list[str]:
    """Upgrade the OLD databases (0003 -> 0004) and check every series' latest
    forecast, read back, against the one written, bit for bit."""
    latest: dict[str, Forecast] = {}
    for results in cycles:
        for r in results:
            if isinstance(r, Forecast):
                latest[r.series.id] = r
    out = []
    for db in ("mariadb", "sqlite"):
        url = urls[f"{db} old"]
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                count = connection.execute(
                    sa.select(sa.func.count()).select_from(tables.forecasts)
                ).scalar_one()
            began = time.perf_counter()
            migrate.upgrade(url)
            took = time.perf_counter() - began
            store = SqlResultStore(engine)
            same = sum(
                _bits(store.latest_forecast(i)) == _bits(f) for i, f in latest.items()
            )
        finally:
            engine.dispose()
        out.append(
            f"{db}: {count:,} rows in {took:.1f} s ({count / took:,.0f} rows/s), "
            f"{same} of {len(latest)} latest forecasts read back bit for bit"
        )
    return out


def _bits(forecast: Forecast | None) -> bytes:
    if forecast is None:
        return b""
    numbers = [v for p in forecast.points for v in attrs.astuple(p)]
    head = (forecast.made_at, forecast.model, forecast.holdout_mae)
    return repr(head).encode() + struct.pack(f"<{len(numbers)}d", *numbers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--demo-forecasts", type=int, default=3000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    args.server = os.environ.get("MONITORING_TEST_DATABASE_URL")
    if not args.server:
        sys.exit('set MONITORING_TEST_DATABASE_URL (eval "$(scripts/services.sh env)")')
    began = time.perf_counter()
    cycles = day(args.series, args.hours)
    print(
        f"computed {sum(map(len, cycles)):,} results in {time.perf_counter() - began:.0f} s"
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        databases(args.server, Path(folder)) as urls,
    ):
        took = fill(urls, cycles)
        sizes = measure(urls)
        migrated = {"10": migration(urls, cycles)}
        for name in ("mariadb new", "sqlite new"):
            windows_option(urls[name], cycles)
        options = {
            "mariadb": mariadb_sizes(
                urls["mariadb new"], True, ("window_stats_packed",)
            ),
            "sqlite": sqlite_sizes(
                Path(sa.make_url(urls["sqlite new"]).database or ""),
                ("window_stats_packed",),
            ),
            "compressed": compressed_option(urls["mariadb new"]),
        }
    demo_series = 100
    demo = demo_cycles(demo_series, max(1, args.demo_forecasts // demo_series))
    with (
        tempfile.TemporaryDirectory() as folder,
        databases(args.server, Path(folder)) as urls,
    ):
        fill(urls, demo)
        demo_sizes = measure(urls)
        migrated["120"] = migration(urls, demo)
        options["demo compressed"] = compressed_option(urls["mariadb new"])
    values = {"10": value_sizes(cycles), "120": value_sizes(demo)}
    report = render(args, sizes, took, demo_sizes, sum(map(len, demo)))
    report += render_options(options, sizes, demo_sizes, values)
    report += "\nMigration 0004 on the OLD databases, then reading back:\n\n" + "".join(
        f"- {n} points, {line}\n" for n, lines in migrated.items() for line in lines
    )
    print(report)
    if not args.no_write:
        with (ROOT / "bench" / "RESULTS.md").open("a") as out:
            out.write(report)


if __name__ == "__main__":
    main()
