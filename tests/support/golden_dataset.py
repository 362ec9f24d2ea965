"""A fixed data set and every output the product makes of it, for golden files.

``outputs(folder)`` returns ``{relative file name: bytes}``: the Kafka message
of every result, every SQL row after storing it all on a fresh SQLite file,
the REST answer of every route (over SQLite and over the in-memory store), the
gRPC answer of every SlaManager RPC and the CLI's table and JSON output, both
backends. Nothing depends on the wall clock or on a random seed left open;
the product's bytes are kept as they are, never re-serialized.
Construction goes through ``tests.support.golden_wiring`` only.
"""

import json
import math
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from monitoring_core.forecasts import Forecast, ForecastPoint, ForecastScore
from monitoring_core.metadata import (
    Seasonality,
    SeriesMetadata,
    Stationarity,
    StationarityTest,
)
from monitoring_core.ports import Result
from monitoring_core.runs import EtlRun, Step, StepTiming
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats
from tests.support import golden_wiring as w

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
START = NOW - timedelta(minutes=30)
"""The clock at the start: SLAs applied, the first prediction recorded."""
WINDOWS = (3600, 10800, 43200)
LOAD = SeriesKey.of("node_load1", {"instance": "db-1:9100", "job": "node"})
LAG = SeriesKey.of("replication_lag_seconds", {"instance": "db-2", "job": "db"})
REQUESTS = SeriesKey.of("http_requests_total", {"code": "200", "job": "api"})
DURATION = SeriesKey.of("http_request_duration_seconds_count", {"job": "api"})
QUANTILE = SeriesKey.of("rpc_duration_seconds", {"job": "api", "quantile": "0.99"})
DISK = SeriesKey.of(
    "node_filesystem_avail_bytes",
    {"device": "dévice", "job": "node", "mountpoint": '/mnt/"data"\\x'},
)
KINDS = {
    LOAD: MetricKind.GAUGE,
    LAG: MetricKind.GAUGE,
    REQUESTS: MetricKind.COUNTER,
    DURATION: MetricKind.HISTOGRAM,
    QUANTILE: MetricKind.SUMMARY,
    DISK: MetricKind.GAUGE,
}
ODD = (0.1 + 0.2, 1e-7, 1e21, -0.0, 123456789.123456789, 2.5e-310)


def _window(seconds: int, seed: int, at: datetime) -> WindowStats:
    if seed % 7 == 3:
        return WindowStats(
            window_seconds=seconds,
            count=0,
            min=None,
            max=None,
            avg=None,
            stddev=None,
            last=None,
        )
    odd = ODD[seed % len(ODD)]
    last = math.nan if seed % 11 == 5 else odd * 3
    top = math.inf if seed % 13 == 4 else 10.0 + odd
    return WindowStats(
        window_seconds=seconds,
        count=seconds // 15 - seed % 3,
        min=-odd,
        max=top,
        avg=odd + seed / 3,
        stddev=math.sqrt(seed + 0.5),
        last=last,
        last_timestamp=at.timestamp() - 7.123,
    )


def window_stats() -> list[Result]:
    """Two evaluation times of every series, each with every window."""
    out: list[Result] = []
    for hours_ago in (1, 0):
        at = NOW - timedelta(hours=hours_ago, seconds=2.5)
        for n, (key, kind) in enumerate(KINDS.items()):
            seed = 3 * n + hours_ago
            windows = tuple(_window(s, seed + i, at) for i, s in enumerate(WINDOWS))
            out.append(SeriesWindowStats(series=key, kind=kind, at=at, windows=windows))
    return out


def _points(
    made_at: datetime, level: float, slope: float, spread: float
) -> tuple[ForecastPoint, ...]:
    return tuple(
        ForecastPoint(
            timestamp=made_at.timestamp() + 60 * i,
            mean=level + slope * i,
            lower_80=level + slope * i - spread * math.sqrt(i),
            upper_80=level + slope * i + spread * math.sqrt(i),
            lower_95=level + slope * i - 1.5 * spread * math.sqrt(i),
            upper_95=level + slope * i + 1.5 * spread * math.sqrt(i),
        )
        for i in range(1, 61)
    )


def forecasts() -> list[Result]:
    """Forecasts made at ``START``; the counter's is clamped at 0."""
    made = START
    load = Forecast(
        series=LOAD,
        made_at=made,
        step_seconds=60,
        model="ses",
        holdout_mae=0.123456789,
        points=_points(made, 1.5, 0.05, 0.2),
        kind=MetricKind.GAUGE,
    )
    lag = Forecast(
        series=LAG,
        made_at=made,
        step_seconds=60,
        model="theta",
        holdout_mae=2.0,
        points=_points(made, 12.0, 0.4, 1.0),
        kind=MetricKind.GAUGE,
    )
    falling = Forecast(
        series=REQUESTS,
        made_at=made,
        step_seconds=60,
        model="naive",
        holdout_mae=0.5,
        points=_points(made, 0.4, -0.02, 0.3),
        kind=MetricKind.COUNTER,
    )
    clamped = w.ValueDomain(lower=0.0).clamp(falling)
    assert clamped is not falling, "the counter's forecast goes below 0"
    histogram = Forecast(
        series=DURATION,
        made_at=made,
        step_seconds=300,
        model="ses",
        holdout_mae=1e-9,
        points=_points(made, 3.25, 0.0, 0.0)[:12],
        kind=MetricKind.HISTOGRAM,
    )
    return [load, lag, clamped, histogram]


def others() -> list[Result]:
    """Metadata, forecast scores and ETL runs."""
    full = SeriesMetadata(
        series=LOAD,
        computed_at=NOW - timedelta(minutes=5),
        lookback_seconds=86400,
        step_seconds=300,
        sample_count=288,
        stationarity=Stationarity.TREND_STATIONARY,
        adf=StationarityTest(statistic=-1.2, p_value=0.6, stationary=False),
        kpss=StationarityTest(statistic=0.1, p_value=0.1, stationary=True),
        acf=(1.0, 0.5, 0.25, 1 / 3),
        acf_significant_lags=(1, 2),
        seasonality=Seasonality(period_seconds=3600, strength=0.8),
    )
    insufficient = SeriesMetadata(
        series=LAG,
        computed_at=NOW - timedelta(minutes=5),
        lookback_seconds=86400,
        step_seconds=300,
        sample_count=3,
        stationarity=Stationarity.INSUFFICIENT_DATA,
        reason="3 samples, 24 needed",
    )
    scores = [
        ForecastScore(
            series=key,
            forecast_made_at=START - timedelta(hours=1),
            scored_at=NOW - timedelta(minutes=1),
            model="ses",
            points_compared=compared,
            mae=mae,
            coverage_80=0.75 if compared else 0.0,
            coverage_95=1.0 if compared else 0.0,
        )
        for key, compared, mae in ((LOAD, 60, 0.0625), (REQUESTS, 0, math.nan))
    ]
    runs = [
        EtlRun(
            run_id=f"run-{n}",
            started_at=NOW - timedelta(minutes=n, seconds=0.0017),
            finished_at=NOW - timedelta(minutes=n) + timedelta(seconds=2.3456789),
            ok=ok,
            steps=(
                StepTiming(step=Step.DISCOVERY, seconds=0.5),
                StepTiming(step=Step.WINDOW_STATS, seconds=1 / 3),
                StepTiming(step=Step.PUBLISH, seconds=0.1, error=error),
            ),
            series_count=5,
            results_published=0 if error else 17,
        )
        for n, ok, error in ((10, True, None), (5, False, "kafka: broker down"))
    ]
    return [full, insufficient, *scores, *runs]


def results() -> list[Result]:
    """The whole data set of results."""
    return [*window_stats(), *forecasts(), *others()]


def raw_source() -> w.InMemoryMetricSource:
    """Raw samples every 15 s over 13 h, leaving their ranges at fixed times."""
    source = w.InMemoryMetricSource()
    begin = NOW.timestamp() - 13 * 3600
    ticks = range(13 * 240 + 1)
    load = [(begin + 15 * i, 1.0 + (7 * i % 13) / 4) for i in ticks]
    load = [
        (t, 4.5 if i % 97 == 0 else -0.25 if i % 211 == 0 else v)
        for i, (t, v) in enumerate(load)
    ]
    lag = [(begin + 15 * i, 45.0 if i % 300 < 4 else 5 + (i % 60) / 4) for i in ticks]
    source.add(LOAD, load, MetricKind.GAUGE)
    source.add(LAG, lag, MetricKind.GAUGE)
    source.add(REQUESTS, [(begin + 15 * i, 1000.0 + 2 * i) for i in ticks])
    return source


def slas() -> list[Any]:
    """A two-sided and a one-sided objective, and a second SLA to delete."""
    golden = w.pb.Sla(
        name="golden",
        description="Golden data set: load in [0, 4], replication lag at most 30 s.",
        objectives=[
            w.pb.Objective(
                selector='node_load1{job="node"}',
                lo=0.0,
                hi=4.0,
                target=0.95,
                window="1h",
                slice="1m",
            ),
            w.pb.Objective(
                selector='replication_lag_seconds{job="db"}',
                hi=30.0,
                target=0.99,
                window="3h",
                slice="5m",
                allow_pending=True,
            ),
        ],
    )
    other = w.pb.Sla(
        name="to-delete",
        objectives=[
            w.pb.Objective(
                selector="http_requests_total", lo=0.0, target=0.9, window="30m"
            )
        ],
    )
    spares = [w.pb.Sla(name=n, objectives=other.objectives) for n in ("a", "b")]
    return [golden, other, *spares]


GOLDEN_YAML = """name: golden
description: "Golden data set: load in [0, 4], replication lag at most 30 s."
objectives:
  - selector: 'node_load1{job="node"}'
    lo: 0.0
    hi: 4.0
    target: 0.95
    window: 1h
    slice: 1m
  - selector: 'replication_lag_seconds{job="db"}'
    hi: 30.0
    target: 0.99
    window: 3h
    slice: 5m
    allow_pending: true
"""


# -- outputs -----------------------------------------------------------------

Outputs = dict[str, bytes]


def kafka_outputs() -> Outputs:
    """Key and value bytes of the message of every result."""
    out: Outputs = {}
    computed_at = NOW + timedelta(milliseconds=1234.5)
    for n, result in enumerate(results()):
        key, value = w.kafka_message(result, computed_at)
        out[f"kafka/{n:02d}.txt"] = key.encode() + b"\n" + value + b"\n"
    return out


def _bad_messages(valid: list[bytes]) -> dict[str, bytes]:
    """Messages the storage service must refuse, each with its own reason."""
    stats, forecast = json.loads(valid[0]), json.loads(valid[len(window_stats())])
    assert stats["type"] == "window_stats" and forecast["type"] == "forecast"

    def changed(body: dict[str, Any], path: tuple[str, ...], value: Any) -> bytes:
        body = json.loads(json.dumps(body))
        inner = body
        for step in path[:-1]:
            inner = inner[step]
        inner[path[-1]] = value
        return json.dumps(body).encode()

    return {
        "not-json": b"{not json",
        "not-utf8": b"\xff\xfe",
        "not-an-object": b"[1, 2]",
        "schema-2": changed(stats, ("schema",), 2),
        "unknown-type": changed(stats, ("type",), "alert"),
        "count-text": changed(stats, ("data", "windows"), [{"count": "x"}]),
        "series-id": changed(stats, ("series", "id"), "0123456789abcdef"),
        "bad-time": changed(forecast, ("data", "made_at"), "yesterday"),
        "bad-kind": changed(forecast, ("data", "kind"), "sparkline"),
        "no-points": changed(forecast, ("data", "points"), None),
        "too-large": b" " * (4 * 1024 * 1024),
    }


def kafka_decoded_outputs() -> Outputs:
    """What the storage service reads back from each message, re-encoded.

    Also a forecast without ``kind`` and ``value_kind`` (an ETL older than
    ADR 0016) and messages it must refuse, with their reasons.
    """
    computed_at = NOW + timedelta(milliseconds=1234.5)
    valid = [w.kafka_message(r, computed_at)[1] for r in results()]
    old = json.loads(valid[len(window_stats())])
    del old["data"]["kind"], old["data"]["value_kind"]
    payloads = {f"{n:02d}": v for n, v in enumerate(valid)}
    payloads["old-forecast"] = json.dumps(old).encode()
    payloads.update({f"bad-{k}": v for k, v in _bad_messages(valid).items()})
    out: Outputs = {}
    for name, payload in payloads.items():
        read = w.kafka_decoded(payload)
        if isinstance(read, str):
            text = read.encode() + b"\n"
        else:
            text = w.kafka_message(read, computed_at)[1] + b"\n"
        out[f"kafka-decoded/{name}.txt"] = text
    return out


def _cell(value: object) -> str:
    if isinstance(value, bytes):
        return "x'" + value.hex() + "'"
    return repr(value)


def sql_outputs(engine: Any) -> Outputs:
    """Every row of every table, one line each, ordered by primary key."""
    return {
        f"sql/{table}.txt": "".join(
            " | ".join(_cell(v) for v in row) + "\n" for row in rows
        ).encode()
        for table, rows in w.table_rows(engine).items()
    }


def rest_targets() -> list[tuple[str, str]]:
    """(file name, path with query) of every route, errors included."""
    ids = {
        "load": LOAD.id,
        "lag": LAG.id,
        "requests": REQUESTS.id,
        "duration": DURATION.id,
        "quantile": QUANTILE.id,
        "disk": DISK.id,
    }
    targets = [
        ("healthz", "/healthz"),
        ("readyz", "/readyz"),
        ("openapi", "/openapi.json"),
        ("docs", "/docs"),
        ("series", "/v1/series"),
        ("series-name", "/v1/series?name=node_load1"),
        ("series-match", '/v1/series?match[]={job="api"}&match[]=up'),
        ("series-limit", "/v1/series?limit=2"),
        ("etl-runs", "/v1/etl/runs"),
        ("etl-runs-limit", "/v1/etl/runs?limit=1"),
        ("error-404-unknown-series", "/v1/series/0123456789abcdef"),
        ("error-404-bad-id", "/v1/series/not-an-id"),
        ("error-404-no-route", "/v2/nothing"),
        ("error-400-limit", "/v1/series?limit=abc"),
        ("error-400-match", "/v1/series?match[]={job="),
        ("error-400-runs-limit", "/v1/etl/runs?limit=0"),
        ("error-400-window", f"/v1/series/{LOAD.id}/values/history?window=2h"),
        ("error-400-from", f"/v1/series/{LOAD.id}/values/history?from=yesterday"),
    ]
    for name, sid in ids.items():
        base = f"/v1/series/{sid}"
        targets += [
            (f"{name}", base),
            (f"{name}-metadata", f"{base}/metadata"),
            (f"{name}-values", f"{base}/values"),
            (f"{name}-forecast", f"{base}/forecast"),
            (f"{name}-history", f"{base}/values/history"),
            (f"{name}-history-1h", f"{base}/values/history?window=1h"),
            (
                f"{name}-history-span",
                f"{base}/values/history?from=2026-12-04T10:30:00Z&to={NOW.timestamp()}",
            ),
        ]
    return targets


def rest_outputs(queries: Any, clock: Any, prefix: str) -> Outputs:
    """Status, content type and body of every route."""
    client = w.rest_client(queries, clock)
    out: Outputs = {}
    for name, target in rest_targets():
        path, _, query = target.partition("?")
        answer = client.simulate_get(path, query_string=query)
        head = f"{answer.status}\n{answer.headers.get('content-type')}\n\n"
        out[f"{prefix}/{name}.txt"] = head.encode() + answer.content
    # The exposition counts this very run's request durations: only its head.
    answer = client.simulate_get("/metrics")
    head = f"{answer.status}\n{answer.headers.get('content-type')}\n"
    out[f"{prefix}/metrics.txt"] = head.encode()
    return out


def _grpc_answer(call: Callable[[], Any]) -> bytes:
    try:
        message = call()
    except grpc.RpcError as exc:
        metadata = sorted((m.key, str(m.value)) for m in exc.trailing_metadata() or ())
        lines = [str(exc.code()), str(exc.details()), *map(repr, metadata)]
        return ("\n".join(lines) + "\n").encode()
    data: bytes = message.SerializeToString(deterministic=True)
    return data.hex().encode() + b"\n"


def _cli_answer(argv: list[str]) -> bytes:
    code, out, err = w.cli(argv)
    return f"exit {code}\n--- stdout\n{out}--- stderr\n{err}".encode()


def sla_outputs(backend: Any, clock: Any, prefix: str, folder: Path) -> Outputs:
    """gRPC answers of every RPC and the CLI's output, as the clock moves."""
    out: Outputs = {}
    pb = w.pb
    golden, other, *spares = slas()
    with w.served(backend.manager, clock) as (address, stub):

        def rpc(name: str, call: Callable[[], Any]) -> None:
            out[f"{prefix}/grpc/{name}.txt"] = _grpc_answer(call)

        def cli(name: str, *argv: str) -> None:
            for fmt in ("table", "json"):
                args = ["sla", "--address", address, "-o", fmt, *argv]
                out[f"{prefix}/cli/{name}-{fmt}.txt"] = _cli_answer(args)

        rpc("apply-golden", lambda: stub.ApplySla(pb.ApplySlaRequest(sla=golden)))
        rpc("apply-other", lambda: stub.ApplySla(pb.ApplySlaRequest(sla=other)))
        for spare in spares:
            stub.ApplySla(pb.ApplySlaRequest(sla=spare))
        rpc(
            "apply-again-validate-only",
            lambda: stub.ApplySla(pb.ApplySlaRequest(sla=golden, validate_only=True)),
        )
        for n in range(3):
            rpc(
                f"predict-recorded-{n}",
                lambda: stub.PredictViolations(
                    pb.PredictViolationsRequest(name="golden", horizon="10m")
                ),
            )
            clock.advance(600)
        assert clock.now() == NOW
        rpc("get", lambda: stub.GetSla(pb.GetSlaRequest(name="golden")))
        rpc("list", lambda: stub.ListSlas(pb.ListSlasRequest()))
        rpc(
            "violations-default",
            lambda: stub.GetViolations(pb.GetViolationsRequest(name="golden")),
        )
        rpc(
            "violations-windows",
            lambda: stub.GetViolations(
                pb.GetViolationsRequest(name="golden", windows=["5m", "1h", "3h"])
            ),
        )
        rpc(
            "predict",
            lambda: stub.PredictViolations(
                pb.PredictViolationsRequest(name="golden", horizon="20m")
            ),
        )
        rpc("status", lambda: stub.GetStatus(pb.GetStatusRequest(name="golden")))
        rpc(
            "score",
            lambda: stub.ScorePredictions(
                pb.ScorePredictionsRequest(name="golden", lookback="1h")
            ),
        )
        rpc(
            "forecast-targets",
            lambda: stub.ListForecastTargets(pb.ListForecastTargetsRequest()),
        )
        bad = pb.Sla(
            name="bad",
            objectives=[
                pb.Objective(selector="up", lo=5.0, hi=1.0, target=2.0, window="1h")
            ],
        )
        rpc(
            "error-invalid-argument",
            lambda: stub.ApplySla(pb.ApplySlaRequest(sla=bad)),
        )
        rpc(
            "error-invalid-horizon",
            lambda: stub.PredictViolations(
                pb.PredictViolationsRequest(name="golden", horizon="7x")
            ),
        )
        rpc("error-not-found", lambda: stub.GetSla(pb.GetSlaRequest(name="nope")))
        sla_file = folder / "golden.yaml"
        sla_file.write_text(GOLDEN_YAML)
        cli("apply", "apply", "-f", str(sla_file))
        cli("list", "list")
        cli("get", "get", "golden")
        cli("status", "status", "golden")
        cli("violations", "violations", "golden", "--window", "5m,1h,3h")
        cli("predict", "predict", "golden", "--horizon", "10m")
        cli("score", "score", "golden", "--lookback", "1h")
        cli("error-not-found", "get", "nope")
        cli("error-bad-window", "violations", "golden", "--window", "7m")
        rpc(
            "delete",
            lambda: stub.DeleteSla(pb.DeleteSlaRequest(name="to-delete")),
        )
        for fmt, spare in zip(("table", "json"), spares, strict=True):
            argv = ["sla", "--address", address, "-o", fmt, "delete", spare.name]
            out[f"{prefix}/cli/delete-{fmt}.txt"] = _cli_answer(argv)
        rpc("list-after-delete", lambda: stub.ListSlas(pb.ListSlasRequest()))
    return out


COMMANDS = ("etl", "storage", "api", "run", "sla-manager")
BAD_SETTINGS = {
    "MONITORING_DATABASE_URL": "bogus",
    "MONITORING_PROMETHEUS_URL": "ftp://x",
    "MONITORING_KAFKA_BOOTSTRAP": " ",
    "MONITORING_WINDOWS": "7x",
    "MONITORING_BIND_HOST": "not a host",
    "MONITORING_SLA_TOKEN": " ",
    "MONITORING_METRICS_PORT": "99999",
}
"""Each service refuses to start with these, naming every one it reads."""


def command_outputs() -> Outputs:
    """``--help`` of every command, and each service's configuration error."""
    helps = [[], *([c] for c in (*COMMANDS, "sla", "db")), ["sla", "apply"]]
    helps += [["db", "upgrade"], ["sla", "violations"], ["sla", "predict"]]
    out: Outputs = {}
    for argv in helps:
        name = "-".join(["monitoring", *argv])
        out[f"commands/{name}-help.txt"] = _cli_answer([*argv, "--help"])
    for command in COMMANDS:
        code, stdout, stderr = w.cli([command], BAD_SETTINGS)
        text = f"exit {code}\n--- stdout\n{stdout}--- stderr\n{stderr}"
        out[f"commands/{command}-invalid-configuration.txt"] = text.encode()
    return out


def _backends(folder: Path) -> Iterator[tuple[str, Any, Any]]:
    for name in ("sqlite", "memory"):
        clock = w.FixedClock(START)
        source = raw_source()
        if name == "sqlite":
            backend = w.sqlite_backend(folder / "golden.db", source, clock)
        else:
            backend = w.memory_backend(source, clock)
        try:
            yield name, backend, clock
        finally:
            backend.close()


def outputs(folder: Path | None = None) -> Outputs:
    """Every golden output of the data set; ``folder`` holds scratch files."""
    if folder is None:
        with tempfile.TemporaryDirectory() as scratch:
            return outputs(Path(scratch))
    out = kafka_outputs()
    out.update(kafka_decoded_outputs())
    out.update(command_outputs())
    for name, backend, clock in _backends(folder):
        backend.write(results())
        out.update(sla_outputs(backend, clock, name, folder))
        out.update(rest_outputs(backend.store, clock, f"{name}/rest"))
        if backend.engine is not None:
            out.update(sql_outputs(backend.engine))
    return out
