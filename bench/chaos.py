"""Chaos suite (issue 16, ADR 0059): random faults while the whole system runs.

The four services on real servers: three ETL workers (one group, 64 shards),
two storage instances (one consumer group), the REST API and the SLA manager,
against a private MariaDB and Kafka (scripts/services.sh, own folder and free
ports) and a private Prometheus scraping a small exporter served from this
process (``--hosts`` x ``--metrics`` gauges plus Prometheus' five per target).
Nothing shared is stopped or killed (bench/chaos_world.py).

Each trial picks a fault from a shuffled schedule (kill -9 of a random
process, twice as often as the others; Kafka restarted; MariaDB stopped for
``--db-outage`` seconds; the SLA manager restarted with SIGTERM) and applies it
at a random moment of a cycle. Then it measures and checks
(bench/chaos_checks.py says exactly what is counted):

- the API answers ``GET /v1/etl/runs`` within ``API_ALLOWANCE`` s of the fault's end;
- every series analysed in every cycle window, except the windows that overlap
  the fault or the recovery allowance after it (``allowance`` below);
- no result lost (on the topic, not in MariaDB), none stored that was never
  produced, none analysed twice in one window;
- the SLA definition (``monitoring sla get``) and every recorded prediction
  (rows of ``sla_predictions``) unchanged.

    .venv/bin/python bench/chaos.py [--trials 20] [--seed N] [--write]

Progress is printed as it goes; the servers and processes are stopped at the
end however it ends (Ctrl-C included). About 30 minutes for 20 trials.
"""

import argparse
import dataclasses
import hashlib
import json
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.chaos_checks import (  # noqa: E402
    Ledger,
    ShardCoverage,
    TopicLedger,
    WindowCoverage,
    compare,
    expected_series,
)
from bench.chaos_world import (  # noqa: E402
    DEAD_LETTERS,
    STORAGE_GROUP,
    TOPIC,
    Settings,
    World,
    http_ok,
    running_world,
    wait_until,
)
from bench.host import cpu  # noqa: E402

from tests.support.grpc import monitoring_command  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
RELIABILITY = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- chaos:begin -->", "<!-- chaos:end -->"
KINDS = ("kill -9", "kafka restart", "mariadb outage", "sla-manager restart")
SESSION_SECONDS = 10
"""The Kafka group session (storage and the ETL's shard group, services.sh)."""
API_ALLOWANCE = 10.0
"""Documented: the API answers within this many seconds of a fault's end."""
SHARDS = 64
SLA_NAME = "chaos-check"
SLA_FILE = f"""\
name: {SLA_NAME}
objectives:
  - selector: 'chaos_m00{{job="chaos"}}'
    lo: 0.0
    hi: 1000.0
    target: 0.9
    window: 2m
    slice: 10s
"""


def allowance(cycle_seconds: int) -> float:
    """Seconds after a fault's end in which cycle windows may be incomplete:
    the group session (a killed member's shards move, or its restart rejoins)
    plus two cycles (the one running when ownership settles, and the next)."""
    return SESSION_SECONDS + 2 * cycle_seconds


@dataclass
class Trial:
    number: int
    kind: str
    target: str = ""
    fault_seconds: float = 0.0
    api_recovery: float = float("inf")
    coverage_gap: float = 0.0
    windows: int = 0
    incomplete: int = 0
    excused: int = 0
    missing_series: int = 0
    twice: int = 0
    shard_missing: int | None = None
    shard_twice: int | None = None
    lost: int = 0
    phantom: int = 0
    on_topic: int = 0
    redelivered: int = 0
    dead_lettered: int = 0
    catch_up: float = 0.0
    sla_intact: bool = False
    predictions: int = 0
    predictions_intact: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def unexcused(self) -> int:
        return self.incomplete - self.excused

    def passed(self) -> bool:
        return (
            self.api_recovery <= API_ALLOWANCE
            and self.unexcused == 0
            and self.twice == 0
            and not self.shard_twice
            and self.lost == 0
            and self.phantom == 0
            and self.sla_intact
            and self.predictions_intact
        )


# ------------------------------------------------------------------- SLA ---


def sla_cli(world: World, *args: str, timeout: float = 30) -> Any:
    """``monitoring sla --output json ARGS``; raises on failure."""
    done = subprocess.run(
        [monitoring_command(), "sla", "--output", "json", *args],
        env=world.environment({"MONITORING_SLA_ADDRESS": world.grpc}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"monitoring sla {' '.join(args)}: {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else None


def apply_sla(world: World) -> None:
    path = world.folder / "sla.yaml"
    path.write_text(SLA_FILE)
    sla_cli(world, "apply", "-f", str(path))


def predictions(engine: sa.Engine) -> dict[tuple[Any, ...], str]:
    """Every recorded prediction of the SLA and a digest of what it says."""
    query = sa.text(
        "SELECT made_at, objective, series_id, slice_seconds, slices "
        "FROM sla_predictions WHERE sla = :sla"
    )
    with engine.connect() as connection:
        return {
            (made, objective, series): hashlib.sha256(
                f"{step}|{slices}".encode()
            ).hexdigest()
            for made, objective, series, step, slices in connection.execute(
                query, {"sla": SLA_NAME}
            )
        }


def sla_definition(world: World, timeout: float = 90) -> Any:
    """``sla get``, retried while the SLA manager or its database comes back."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return sla_cli(world, "get", SLA_NAME)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


# ---------------------------------------------------------------- faults ---


def apply_fault(
    world: World, kind: str, rng: random.Random, db_outage: float
) -> tuple[str, float]:
    """Apply ``kind``; returns the target and when the fault ended (epoch s)."""
    if kind == "kill -9":
        name = rng.choice(sorted(world.procs))
        proc = world.procs[name]
        proc.kill9()
        proc.start()  # at once: a supervisor's restart
        return name, time.time()
    if kind == "kafka restart":
        world.services_sh("down", "kafka")
        world.services_sh("up", "kafka")  # returns once the broker is ready
        return "kafka", time.time()
    if kind == "mariadb outage":
        world.services_sh("down", "mariadb")
        time.sleep(db_outage)
        world.services_sh("up", "mariadb")
        return "mariadb", time.time()
    proc = world.procs["sla-manager"]
    proc.stop(within=30)
    proc.start()
    return "sla-manager", time.time()


def api_recovery(world: World, since: float) -> float:
    """Seconds from ``since`` to the API's first 200 on a database-backed route."""
    url = f"{world.api}/v1/etl/runs?limit=1"
    if not wait_until(lambda: http_ok(url, 1.0), 120, 0.1):
        return float("inf")
    return max(0.0, time.time() - since)


# ---------------------------------------------------------------- checks ---


@dataclass
class Run:
    """What lives across trials."""

    world: World
    engine: sa.Engine
    ledger: TopicLedger
    dead_letters: TopicLedger
    expected: set[str]
    next_window: int
    cycle: int
    db_outage: float
    trials: list[Trial] = field(default_factory=list)
    final: Ledger | None = None


def judge(run: Run, trial: Trial, fault_start: float, fault_end: float) -> None:
    """Coverage of the windows since the last trial's, then the ledger."""
    cycle = run.cycle
    last = int((fault_end + allowance(cycle)) // cycle)
    # The cycle of window ``last`` may start at its end: give it one period.
    wait_until(lambda: time.time() >= (last + 2) * cycle + 2, 10 * cycle, 0.2)
    ledger = compare(run.ledger, run.engine, STORAGE_GROUP, run.dead_letters, wait=120)
    trial.lost, trial.phantom = len(ledger.lost), len(ledger.phantom)
    trial.on_topic, trial.redelivered = ledger.on_topic, ledger.redelivered
    trial.dead_lettered = ledger.dead_lettered
    trial.catch_up = ledger.caught_up_seconds
    if ledger.lost:
        trial.notes.append(f"lost e.g. {sorted(ledger.lost)[:3]}")
    run.final = ledger
    stored = WindowCoverage.read(run.engine, cycle)
    shards = ShardCoverage.of(run.ledger.runs.values(), cycle)
    excused = range(int(fault_start // cycle), last + 1)
    gap_end = 0.0
    for w in range(run.next_window, last + 1):
        trial.windows += 1
        missing = stored.missing(w, run.expected)
        trial.twice += stored.twice(w)
        if shards.known():
            trial.shard_missing = (trial.shard_missing or 0) + shards.missing(w, SHARDS)
            trial.shard_twice = (trial.shard_twice or 0) + shards.twice(w)
        if not missing:
            continue
        trial.incomplete += 1
        gap_end = max(gap_end, (w + 1) * cycle)
        if w in excused:
            trial.excused += 1
        else:
            trial.missing_series += len(missing)
            trial.notes.append(f"window {w}: {len(missing)} series not analysed")
    trial.coverage_gap = max(0.0, gap_end - fault_end)
    run.next_window = last + 1


def run_trial(run: Run, number: int, kind: str, rng: random.Random) -> Trial:
    trial = Trial(number, kind)
    world = run.world
    try:
        sla_cli(world, "predict", SLA_NAME, "--horizon", "30s")
    except Exception as exc:  # no forecast stored yet: nothing to predict from
        trial.notes.append(f"predict: {str(exc)[-80:]}")
    sla_before = sla_definition(world)
    made_before = predictions(run.engine)
    time.sleep(rng.uniform(0, run.cycle))  # a random moment of the cycle
    fault_start = time.time()
    trial.target, fault_end = apply_fault(world, kind, rng, run.db_outage)
    trial.fault_seconds = fault_end - fault_start
    trial.api_recovery = api_recovery(world, fault_end)
    judge(run, trial, fault_start, fault_end)
    try:
        trial.sla_intact = sla_definition(world) == sla_before
    except RuntimeError as exc:  # the SLA manager never answered again
        trial.notes.append(f"sla get: {str(exc)[-120:]}")
    made_after = predictions(run.engine)
    trial.predictions = len(made_before)
    trial.predictions_intact = all(
        made_after.get(k) == v for k, v in made_before.items()
    )
    return trial


def describe(t: Trial) -> str:
    shards = (
        f", shards missing {t.shard_missing} twice {t.shard_twice}"
        if t.shard_missing is not None
        else ""
    )
    return (
        f"[{t.number}] {t.kind} {t.target}: fault {t.fault_seconds:.1f}s, "
        f"API back {t.api_recovery:.2f}s, coverage gap {t.coverage_gap:.1f}s; "
        f"{t.windows} windows, {t.incomplete} incomplete ({t.excused} excused), "
        f"{t.twice} series analysed twice{shards}; {t.on_topic} results on the "
        f"topic, lost {t.lost} ({t.dead_lettered} dead-lettered so far), phantom "
        f"{t.phantom}, redelivered {t.redelivered}, storage caught up in "
        f"{t.catch_up:.1f}s; "
        f"SLA {'intact' if t.sla_intact else 'CHANGED'}, {t.predictions} "
        f"predictions {'intact' if t.predictions_intact else 'CHANGED'}"
        f"{' -- ' + '; '.join(t.notes) if t.notes else ''}"
        f" => {'ok' if t.passed() else 'FAILED'}"
    )


def schedule(rng: random.Random, n: int) -> list[str]:
    """Blocks of five: the four kinds shuffled, then one more kill -9 (the
    processes outnumber the other faults); the first four always differ."""
    kinds: list[str] = []
    while len(kinds) < n:
        block = list(KINDS)
        rng.shuffle(block)
        kinds += [*block, "kill -9"]
    return kinds[:n]


def warm_up(run: Run, timeout: float) -> None:
    """Wait for a complete window: every series analysed once by the workers."""

    def complete() -> bool:
        run.ledger.drain()
        stored = WindowCoverage.read(run.engine, run.cycle)
        done = [w for w in stored.analysed if not stored.missing(w, run.expected)]
        if done:
            run.next_window = max(done) + 1
        return bool(done)

    if not wait_until(complete, timeout, 2.0):
        stored = WindowCoverage.read(run.engine, run.cycle)
        best = max((len(v) for v in stored.analysed.values()), default=0)
        tails = "\n".join(p.tail(1500) for p in run.world.procs.values())
        raise RuntimeError(
            f"no cycle window analysed all {len(run.expected)} series within "
            f"{timeout:.0f}s (best {best}):\n{tails}"
        )


@dataclass
class Summary:
    seed: int
    settings: Settings
    db_outage: float
    trials: list[Trial]
    final: Ledger
    seconds: float
    pids: list[int]
    """Every process the run started (all ended once it returned)."""

    def passed(self) -> bool:
        return all(t.passed() for t in self.trials) and not self.final.lost


def run_chaos(
    settings: Settings,
    trials: int,
    seed: int,
    db_outage: float,
    say: Callable[[str], None] = print,
) -> Summary:
    """Start the world, run ``trials`` trials, stop everything; the summary."""
    rng = random.Random(seed)
    started = time.monotonic()
    say(f"chaos: seed {seed}, {trials} trials, cycle {settings.cycle_seconds}s")
    with running_world(settings) as world:
        say(
            f"chaos: world up in {world.folder} (kafka {world.bootstrap}, "
            f"mariadb :{world.mariadb_port}, prometheus {world.prometheus_url})"
        )
        engine = sa.create_engine(world.database, pool_pre_ping=True)
        ledger = TopicLedger(world.bootstrap, TOPIC)
        dead_letters = TopicLedger(world.bootstrap, DEAD_LETTERS)
        try:
            every_target = settings.hosts * (settings.metrics + 5)
            if not wait_until(
                lambda: len(expected_series(world.prometheus_url)) == every_target,
                60,
                1.0,
            ):
                raise RuntimeError("prometheus did not scrape every exporter target")
            expected = expected_series(world.prometheus_url)
            apply_sla(world)  # its selector must match scraped series
            run = Run(
                world,
                engine,
                ledger,
                dead_letters,
                expected,
                0,
                settings.cycle_seconds,
                db_outage,
            )
            warm_up(run, 180)
            say(
                f"chaos: {len(expected)} series, first complete window "
                f"{run.next_window - 1}; trials start"
            )
            for number, kind in enumerate(schedule(rng, trials), 1):
                trial = run_trial(run, number, kind, rng)
                run.trials.append(trial)
                say(describe(trial))
            assert run.final is not None  # every trial compares
            return Summary(
                seed,
                settings,
                db_outage,
                run.trials,
                run.final,
                time.monotonic() - started,
                world.pids,
            )
        finally:
            ledger.close()
            dead_letters.close()
            engine.dispose()


# ---------------------------------------------------------------- report ---


def _p50_max(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} s / {max(values):.2f} s"


def report(summary: Summary) -> str:
    trials = summary.trials
    kinds = Counter(
        f"kill -9 {t.target.rstrip('0123456789-')}" if t.kind == "kill -9" else t.kind
        for t in trials
    )
    shard_known = [t for t in trials if t.shard_missing is not None]
    s = summary.settings
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        (
            "trials",
            f"{len(trials)} (seed {summary.seed}), {summary.seconds / 60:.0f} min",
        ),
        ("faults", ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))),
        (
            "API answering after the fault's end, p50 / max",
            _p50_max([t.api_recovery for t in trials]),
        ),
        (
            "last incomplete window's end after the fault's end, p50 / max",
            _p50_max([t.coverage_gap for t in trials]),
        ),
        ("cycle windows judged", str(sum(t.windows for t in trials))),
        (
            "incomplete windows (within the allowance / outside)",
            f"{sum(t.excused for t in trials)} / {sum(t.unexcused for t in trials)}",
        ),
        ("series analysed twice in one window", str(sum(t.twice for t in trials))),
        (
            "shards analysed twice in one window",
            str(sum(t.shard_twice or 0 for t in shard_known))
            if shard_known
            else "n/a (no etl_run names its shards)",
        ),
        ("results on the topic (final)", f"{summary.final.on_topic:,}"),
        ("lost (on the topic, not stored)", str(len(summary.final.lost))),
        ("of which dead-lettered by storage", str(summary.final.dead_lettered)),
        ("stored but never produced", str(len(summary.final.phantom))),
        ("redelivered on the topic (stored once)", str(summary.final.redelivered)),
        (
            "SLA definition intact after every trial",
            f"{sum(t.sla_intact for t in trials)} / {len(trials)}",
        ),
        (
            "predictions intact after every trial",
            f"{sum(t.predictions_intact for t in trials)} / {len(trials)} "
            f"(up to {max((t.predictions for t in trials), default=0)} rows)",
        ),
        ("trials passed", f"{sum(t.passed() for t in trials)} / {len(trials)}"),
    ]
    lines = [
        f"## Chaos suite ({now})",
        "",
        f"Machine: {cpu()}, Python {sys.version.split()[0]}. `bench/chaos.py "
        f"--trials {len(trials)} --seed {summary.seed}`: three ETL workers, two "
        "storage instances, the API and the SLA manager on a private Kafka 4.1.1 "
        f"and MariaDB; {s.hosts * (s.metrics + 5)} series ({s.hosts} scraped "
        f"targets), cycle {s.cycle_seconds} s, MariaDB outages "
        f"{summary.db_outage:.0f} s; recovery allowance {allowance(s.cycle_seconds):.0f} s "
        f"for coverage, {API_ALLOWANCE:.0f} s for the API (ADR 0059).",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        "| # | fault | target | fault s | API back s | gap s | windows | "
        "incomplete (excused) | twice | lost | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {t.number} | {t.kind} | {t.target} | {t.fault_seconds:.1f} | "
            f"{t.api_recovery:.2f} | {t.coverage_gap:.1f} | {t.windows} | "
            f"{t.incomplete} ({t.excused}) | {t.twice} | {t.lost} | "
            f"{'yes' if t.passed() else 'no'} |"
            for t in trials
        ),
    ]
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write("\n" + text)
    doc = RELIABILITY.read_text(encoding="utf-8")
    body = text.split("\n", 2)[2]  # without the section title
    block = f"{BEGIN}\n*Generated by `bench/chaos.py --write`.*\n\n{body}{END}"
    if BEGIN in doc and END in doc:
        doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END) :]
    else:
        doc += f"\n{block}\n"
    RELIABILITY.write_text(doc, encoding="utf-8")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cycle", type=int, default=10, help="ETL cycle seconds")
    parser.add_argument("--db-outage", type=float, default=60.0)
    parser.add_argument("--hosts", type=int, default=12)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/monitoring-chaos"))
    parser.add_argument(
        "--code",
        type=Path,
        default=None,
        help="run the services from this src folder (e.g. an export of a commit)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="append to RESULTS.md and update docs/reliability.md",
    )
    args = parser.parse_args()
    if args.trials < 1 or args.cycle < 2 or args.hosts < 1 or args.metrics < 1:
        parser.error("--trials, --hosts and --metrics must be >= 1, --cycle >= 2")
    seed = (
        args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    )
    signal.signal(signal.SIGTERM, _interrupt)
    settings = dataclasses.replace(
        Settings(),
        cycle_seconds=args.cycle,
        hosts=args.hosts,
        metrics=args.metrics,
        folder=args.folder / f"run-{seed}",
        code=args.code,
    )
    try:
        summary = run_chaos(
            settings,
            args.trials,
            seed,
            args.db_outage,
            lambda line: print(line, flush=True),
        )
    except KeyboardInterrupt:
        print("chaos: interrupted; everything stopped", file=sys.stderr)
        raise SystemExit(130) from None
    except (RuntimeError, AssertionError) as exc:
        print(f"chaos: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    text = report(summary)
    print(text)
    if args.write:
        write(text)
    raise SystemExit(0 if summary.passed() else 1)


if __name__ == "__main__":
    main()
