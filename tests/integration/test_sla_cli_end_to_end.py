"""Issue #5, criterion 6: ``monitoring sla-manager`` and the ``monitoring sla``
client as real processes, on the local Prometheus (its node-exporter scraped as
job "node") and on a fresh SQLite file or a fresh MariaDB database.

Reports are checked against Prometheus itself: the series each objective
reports are exactly those its selector matches, and their slice counts are
recounted from the raw samples.
"""

import contextlib
import json
import math
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
import yaml

from adapters.grpc.convert import STATUS_NAMES
from monitoring_core.durations import parse_duration
from monitoring_core.selectors import parse_selector
from monitoring_core.series import SeriesKey
from tests.support import slo_recount
from tests.support.databases import throwaway_database
from tests.support.grpc import free_port, monitoring_command, running_sla_manager
from tests.support.servers import ROOT, server

TOKEN = "e2e-Token.42"
DATABASES = ["sqlite", "mariadb"]
EXAMPLE = ROOT / "examples" / "sla.yaml"
STATUSES = {f"STATUS_{name.upper()}" for name in STATUS_NAMES.values()}
Labels = tuple[tuple[str, str], ...]


@attrs.frozen
class Manager:
    """A running ``monitoring sla-manager`` and what it reads."""

    address: str
    process: "subprocess.Popen[bytes]"
    log: Path
    prometheus: str


def same_selector(got: str, want: str) -> bool:
    """Equal as selectors: the server stores labels in canonical order."""
    return set(parse_selector(got).matchers) == set(parse_selector(want).matchers)


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    """The local Prometheus that scrapes a node-exporter as job "node"."""
    with server("PROMETHEUS_URL") as url:
        yield url


@contextlib.contextmanager
def fresh_database(
    kind: str, request: pytest.FixtureRequest, folder: Path
) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new MariaDB database."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'sla.db'}"
        return
    server_url = request.getfixturevalue("database_url")
    with throwaway_database(server_url, prefix="monitoring_sla") as url:
        yield url


@contextlib.contextmanager
def started_manager(
    database: str, prometheus_url: str, folder: Path
) -> Iterator[Manager]:
    """The server, SERVING; at the end SIGTERM must stop it with exit code 0."""
    port = free_port()
    env = {
        "MONITORING_DATABASE_URL": database,
        "MONITORING_PROMETHEUS_URL": prometheus_url,
        "MONITORING_GRPC_PORT": str(port),
        "MONITORING_SLA_TOKEN": TOKEN,
        "MONITORING_SLA_METRICS_PORT": "0",
        "MONITORING_GRPC_TLS_CERT": "",
        "MONITORING_GRPC_TLS_KEY": "",
    }
    log = folder / "sla-manager.log"
    with running_sla_manager(env, log) as process:
        yield Manager(
            address=f"127.0.0.1:{port}",
            process=process,
            log=log,
            prometheus=prometheus_url,
        )


@pytest.fixture(params=DATABASES)
def manager(
    request: pytest.FixtureRequest, prometheus_url: str, tmp_path: Path
) -> Iterator[Manager]:
    """A server of its own, on a fresh database."""
    with (
        fresh_database(request.param, request, tmp_path) as database,
        started_manager(database, prometheus_url, tmp_path) as running,
    ):
        yield running


@pytest.fixture(scope="module", params=DATABASES)
def shared_manager(
    request: pytest.FixtureRequest,
    prometheus_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Manager]:
    """One server per database for the tests that must leave it empty."""
    folder = tmp_path_factory.mktemp(f"sla-{request.param}")
    with (
        fresh_database(request.param, request, folder) as database,
        started_manager(database, prometheus_url, folder) as running,
    ):
        yield running


def sla(
    address: str, *args: str, token: str = TOKEN
) -> "subprocess.CompletedProcess[str]":
    """Run ``monitoring sla ARGS`` against the server at ``address``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_SLA")}
    env.update(MONITORING_SLA_ADDRESS=address, MONITORING_SLA_TOKEN=token)
    return subprocess.run(
        [monitoring_command(), "sla", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok(result: "subprocess.CompletedProcess[str]") -> str:
    """The standard output of a command that must have succeeded quietly."""
    assert (result.returncode, result.stderr) == (0, ""), result.args
    return result.stdout


def as_json(result: "subprocess.CompletedProcess[str]") -> Any:
    """The JSON a successful ``--output json`` command printed."""
    return json.loads(ok(result))


def failure(result: "subprocess.CompletedProcess[str]", code: int) -> str:
    """The single stderr line of a command that must have failed with ``code``."""
    assert result.returncode == code, (result.args, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _moment(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _labels(series: dict[str, Any]) -> Labels:
    return tuple(sorted(series.get("labels", {}).items()))


def prometheus_samples(
    url: str, selector: str, start: float, end: float
) -> dict[Labels, list[tuple[int, float]]]:
    """Raw samples ``(epoch ms, value)`` in ``[start, end)`` of every series
    ``selector`` matches, read from Prometheus directly."""
    milliseconds = round((end - start) * 1000)
    response = requests.get(
        f"{url}/api/v1/query",
        params={"query": f"{selector}[{milliseconds}ms]", "time": f"{end - 0.001:.3f}"},
        timeout=30,
    )
    response.raise_for_status()
    found: dict[Labels, list[tuple[int, float]]] = {}
    for item in response.json()["data"]["result"]:
        labels = tuple(
            sorted((k, v) for k, v in item["metric"].items() if k != "__name__")
        )
        samples = [
            (round(float(t) * 1000), float(v))
            for t, v in item["values"]
            if start <= float(t) < end and not math.isnan(float(v))
        ]
        if samples:
            found[labels] = samples
    return found


def _same(report: dict[str, Any], figures: dict[str, Any]) -> None:
    """A WindowReport as JSON (defaults left out) against the recount."""
    for field in (
        "total_slices",
        "good_slices",
        "above_slices",
        "below_slices",
        "unmeasured_slices",
    ):
        assert report.get(field, 0) == figures[field], field
    for field in ("coverage", "budget_slices", "budget_minutes"):
        assert report.get(field, 0.0) == pytest.approx(figures[field]), field
    for field in ("sli", "gap", "burn_rate"):
        assert report.get(field) == pytest.approx(figures[field]), field
    for field in ("breached", "insufficient_data"):
        assert report.get(field, False) is figures[field], field
    assert _moment(report["start"]) == figures["start"]
    assert len(report.get("episodes", [])) == len(figures["episodes"])
    for got, want in zip(report.get("episodes", []), figures["episodes"], strict=True):
        assert got["side"] == f"SIDE_{want['side'].upper()}"
        assert got["bad_slices"] == want["bad_slices"]
        assert got.get("open", False) is want["open"]
        assert got["worst_value"] == pytest.approx(want["worst_value"])


def check_violations(prometheus: str, item: dict[str, Any]) -> None:
    """One objective of a violations report against Prometheus' raw samples.

    Reported, in every window: exactly the series its selector matches with a
    sample in the longest window; each recounted by ``tests.support.slo_recount``.
    """
    objective, windows = item["objective"], item["windows"]
    slice_seconds = parse_duration(objective["slice"])
    ends = {s["report"]["end"] for w in windows for s in w.get("series", [])}
    assert len(ends) <= 1, "every window of an objective ends at the same time"
    end = (
        _moment(ends.pop())
        if ends
        else math.floor(time.time() / slice_seconds) * slice_seconds
    )
    assert end % slice_seconds == 0
    longest = max(parse_duration(w["window"]) for w in windows)
    expected = prometheus_samples(prometheus, objective["selector"], end - longest, end)
    name = objective["selector"].split("{")[0]
    for window in windows:
        reported = window.get("series", [])
        assert {_labels(s["series"]) for s in reported} == set(expected)
        for entry in reported:
            series, report = entry["series"], entry["report"]
            labels = dict(_labels(series))
            assert series["name"] == name and labels["job"] == "node"
            assert series["id"] == SeriesKey.of(name, labels).id
            assert report["window"] == window["window"]
            _same(
                report,
                slo_recount.window(
                    expected[_labels(series)],
                    lo=objective.get("lo"),
                    hi=objective.get("hi"),
                    target=objective["target"],
                    slice_seconds=slice_seconds,
                    end=round(end * 1000),
                    window_seconds=parse_duration(window["window"]),
                ),
            )


def check_prediction(
    prometheus: str, report: dict[str, Any], document: dict[str, Any]
) -> None:
    """A status or prediction report of the example SLA, without forecasts."""
    assert report["name"] == "node-health"
    assert report["horizon"] == "10m"
    assert report["status"] in STATUSES
    assert len(report["objectives"]) == len(document["objectives"])
    for index, (item, want) in enumerate(
        zip(report["objectives"], document["objectives"], strict=True)
    ):
        assert item.get("index", 0) == index
        assert same_selector(item["objective"]["selector"], want["selector"])
        assert item["status"] in STATUSES
        slice_seconds = parse_duration(want.get("slice", "1m"))
        window = parse_duration(want["window"])
        end = math.floor(_moment(report["at"]) / slice_seconds) * slice_seconds
        expected = prometheus_samples(prometheus, want["selector"], end - window, end)
        series = item.get("series", [])
        assert {_labels(s["series"]) for s in series} == set(expected)
        if not series:
            assert item["status"] == "STATUS_INSUFFICIENT_DATA"
        for entry in series:
            assert entry["series"]["name"] == want["selector"].split("{")[0]
            assert entry["status"] in STATUSES
            compliance = entry["compliance"]
            assert compliance["window"] == want["window"]
            _same(
                compliance,
                slo_recount.window(
                    expected[_labels(entry["series"])],
                    lo=want.get("lo"),
                    hi=want.get("hi"),
                    target=want["target"],
                    slice_seconds=slice_seconds,
                    end=end * 1000,
                    window_seconds=window,
                ),
            )
            # A fresh database holds no forecast: nothing is predicted.
            assert "forecast_made_at" not in entry and not entry.get("slices")
            assert not entry.get("breach_predicted", False)
    assert report["objectives"][0].get("series"), "node_load1 of job node"


def check_definition(sla_json: dict[str, Any], document: dict[str, Any]) -> None:
    """The stored SLA is the YAML document, with defaults filled in."""
    assert sla_json["name"] == document["name"]
    assert sla_json["description"] == document["description"]
    assert sla_json["version"] == "1"
    assert len(sla_json["objectives"]) == len(document["objectives"])
    for got, want in zip(sla_json["objectives"], document["objectives"], strict=True):
        assert same_selector(got["selector"], want["selector"])
        for side in ("lo", "hi"):
            assert got.get(side) == (float(want[side]) if side in want else None)
        assert got["target"] == want["target"]
        assert got["window"] == want["window"]
        assert got["slice"] == want.get("slice", "1m")
        assert got.get("allow_pending", False) == want.get("allow_pending", False)


def test_the_example_sla_from_apply_to_delete(manager: Manager) -> None:
    address, document = manager.address, yaml.safe_load(EXAMPLE.read_text())

    assert ok(sla(address, "apply", "-f", str(EXAMPLE))) == (
        "sla node-health created (version 1)\n"
    )
    assert ok(sla(address, "apply", "-f", str(EXAMPLE))) == (
        "sla node-health unchanged (version 1)\n"
    )
    [applied] = as_json(sla(address, "--output", "json", "apply", "-f", str(EXAMPLE)))
    assert applied.get("changed", False) is False
    check_definition(applied["sla"], document)

    header, *rows = ok(sla(address, "list")).splitlines()
    assert header.split() == ["NAME", "OBJECTIVES", "VERSION", "UPDATED"]
    assert [row.split()[:3] for row in rows] == [["node-health", "3", "1"]]
    [listed] = as_json(sla(address, "--output", "json", "list"))
    check_definition(listed, document)

    shown = ok(sla(address, "get", "node-health"))
    assert shown.startswith("sla node-health (version 1, updated ")
    assert document["description"] in shown
    fetched = as_json(sla(address, "-o", "json", "get", "node-health"))
    check_definition(fetched, document)
    assert fetched["updated_at"] == listed["updated_at"] == applied["sla"]["updated_at"]

    table = ok(sla(address, "violations", "node-health", "--window", "1h,3h"))
    assert 'objective 0: node_load1{job="node"} in [0, 4]' in table
    assert any(
        line.startswith("1h") and 'node_load1{instance="' in line
        for line in table.splitlines()
    )
    violations = as_json(
        sla(address, "-o", "json", "violations", "node-health", "--window", "1h,3h")
    )
    assert violations["name"] == "node-health"
    assert len(violations["objectives"]) == 3
    for index, objective in enumerate(violations["objectives"]):
        assert objective.get("index", 0) == index
        assert [w["window"] for w in objective["windows"]] == ["1h", "3h"]
        check_violations(manager.prometheus, objective)
    load_windows = violations["objectives"][0]["windows"]
    assert all(w.get("series") for w in load_windows), "node_load1 of job node"

    prediction = ok(sla(address, "predict", "node-health", "--horizon", "10m"))
    assert prediction.startswith("sla node-health: ")
    assert "horizon 10m" in prediction.splitlines()[0]
    check_prediction(
        manager.prometheus,
        as_json(
            sla(address, "-o", "json", "predict", "node-health", "--horizon", "10m")
        ),
        document,
    )
    status = ok(sla(address, "status", "node-health"))
    assert status.startswith("sla node-health: ") and "horizon 10m" in status
    check_prediction(
        manager.prometheus,
        as_json(sla(address, "-o", "json", "status", "node-health")),
        document,
    )

    assert ok(sla(address, "delete", "node-health")) == "sla node-health deleted\n"
    for output in ("table", "json"):
        line = failure(sla(address, "-o", output, "get", "node-health"), 1)
        assert line == (
            "monitoring sla get: not_found: there is no SLA named 'node-health'"
        )
    assert ok(sla(address, "list")) == "no SLAs\n"
    assert as_json(sla(address, "-o", "json", "list")) == []
    assert "not_found" in failure(sla(address, "delete", "node-health"), 1)

    started = time.monotonic()
    manager.process.send_signal(signal.SIGTERM)
    code = manager.process.wait(timeout=5)
    assert code == 0, manager.log.read_text()[-3000:]
    assert time.monotonic() - started < 5
    assert "SLA manager stopped" in manager.log.read_text()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("name: [oops\n", "is not valid YAML", id="syntax"),
        pytest.param("", "holds no SLA", id="empty"),
        pytest.param("- a\n- list\n", "expected a mapping", id="not-a-mapping"),
        pytest.param("name: x\nobjectives: none\n", "must be a list", id="no-list"),
        pytest.param(
            "name: x\nobjectives:\n  - selector: node_load1\n    target: high\n",
            "objectives[0].target must be a number",
            id="target-not-a-number",
        ),
        pytest.param(
            "name: x\nobjectives:\n  - selector: node_load1\n    hi: [1]\n",
            "objectives[0].hi must be a number",
            id="bound-not-a-number",
        ),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(
    shared_manager: Manager, tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    line = failure(sla(shared_manager.address, "apply", "-f", str(path)), 2)
    assert line.startswith("monitoring sla: ") and says in line
    assert str(path) in line
    assert as_json(sla(shared_manager.address, "-o", "json", "list")) == []


def test_a_missing_file_is_one_line_and_exit_2(shared_manager: Manager) -> None:
    line = failure(sla(shared_manager.address, "apply", "-f", "/no/such/sla.yaml"), 2)
    assert line == (
        "monitoring sla: cannot read /no/such/sla.yaml: No such file or directory"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"lo": 5.0, "hi": 1.0}, "objectives[0].lo", id="lo-above-hi"),
        pytest.param({"target": 1.5}, "objectives[0].target", id="target"),
        pytest.param({"window": "7m"}, "objectives[0].window", id="window"),
        pytest.param(
            {"selector": 'node_load1{job=~"no.*"}'},
            "objectives[0].selector",
            id="regex",
        ),
        pytest.param(
            {"selector": 'node_load1{job="nowhere"}'},
            "objectives[0].selector",
            id="no-series",
        ),
        pytest.param({"name": "Node Health"}, "name", id="name"),
    ],
)
def test_an_invalid_sla_is_one_line_naming_the_field(
    shared_manager: Manager, tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    objective = {
        "selector": 'node_load1{job="node"}',
        "lo": 0.0,
        "hi": 4.0,
        "target": 0.99,
        "window": "1h",
        "slice": "2m",
    }
    name = change.get("name", "invalid")
    objective.update({k: v for k, v in change.items() if k != "name"})
    path = tmp_path / "invalid.yaml"
    path.write_text(yaml.safe_dump({"name": name, "objectives": [objective]}))
    line = failure(sla(shared_manager.address, "apply", "-f", str(path)), 1)
    assert line.startswith(f"monitoring sla apply: invalid_argument: {field}: ")
    assert as_json(sla(shared_manager.address, "-o", "json", "list")) == []


@pytest.mark.parametrize(
    ("token", "says"),
    [("wrong-token", "invalid bearer token"), ("", "missing bearer token")],
)
def test_a_wrong_token_is_unauthenticated(
    shared_manager: Manager, token: str, says: str
) -> None:
    for args in (["apply", "-f", str(EXAMPLE)], ["list"], ["get", "node-health"]):
        line = failure(sla(shared_manager.address, *args, token=token), 1)
        assert line.startswith(f"monitoring sla {args[0]}: unauthenticated: ")
        assert says in line
    assert as_json(sla(shared_manager.address, "-o", "json", "list")) == []


def test_an_unreachable_manager_is_one_line() -> None:
    address = f"127.0.0.1:{free_port()}"
    line = failure(sla(address, "list"), 1)
    assert line.startswith(
        f"monitoring sla list: unavailable: cannot reach the SLA manager at {address}"
    )
