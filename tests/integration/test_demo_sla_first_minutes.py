"""Ten minutes into `make demo`, the example SLA's status says something useful.

A private Prometheus is backfilled with node-exporter-like series whose history
began ten minutes ago (and goes on past now, so the newest slices are measured
however long the test takes). A real ``monitoring sla-manager`` reads it; the
real CLI applies ``examples/sla.yaml`` and asks for ``status``. The objectives
whose window the history already covers must have a verdict (ok here: the
values stay in range); the 15-minute load objective must say "warming up" with
the share of its window that ten minutes of history are, never a bare
``insufficient_data``.
"""

import json
import math
import os
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.grpc import monitoring_command, running_sla_manager
from tests.support.prometheus import backfill, free_port, private_prometheus
from tests.support.servers import ROOT

pytestmark = pytest.mark.timeout(120)

EXAMPLE = ROOT / "examples" / "sla.yaml"
HISTORY_SECONDS = 600
STEP = 5  # the scrape interval of the demo's Prometheus
LABELS = 'instance="127.0.0.1:19100",job="node"'
WARMING_UP = re.compile(r"warming up: (\d+) % of the window measured")


def node_like(first: int, last: int) -> str:
    """OpenMetrics of three node-exporter gauges, every 5 s in ``[first, last)``."""
    values = {
        "node_load1": lambda i: 0.8 + 0.5 * math.sin(i / 20),
        "node_memory_MemAvailable_bytes": lambda i: 8e9 + 1e7 * (i % 7),
        "node_procs_blocked": lambda i: float(i % 3 == 0),
    }
    lines = []
    for name, value in values.items():
        lines.append(f"# TYPE {name} gauge")
        lines += [
            f"{name}{{{LABELS}}} {value(i)!r} {t}"
            for i, t in enumerate(range(first, last, STEP))
        ]
    return "\n".join([*lines, "# EOF"]) + "\n"


def cli(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_SLA")}
    env["MONITORING_SLA_ADDRESS"] = address
    done = subprocess.run(
        [monitoring_command(), "sla", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def windows() -> dict[str, int]:
    """Each objective's window in seconds, by metric name, from the example."""
    units = {"s": 1, "m": 60, "h": 3600}
    return {
        o["selector"].split("{")[0]: int(o["window"][:-1]) * units[o["window"][-1]]
        for o in yaml.safe_load(EXAMPLE.read_text())["objectives"]
    }


def test_ten_minutes_in_every_objective_has_a_verdict_or_says_warming_up(
    tmp_path: Path,
) -> None:
    began = int(time.time()) - HISTORY_SECONDS
    backfill(node_like(began, began + 2 * HISTORY_SECONDS), tmp_path / "data")
    with private_prometheus(tmp_path / "data") as prometheus:
        port = free_port()
        env = {
            "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'sla.db'}",
            "MONITORING_PROMETHEUS_URL": prometheus,
            "MONITORING_GRPC_PORT": str(port),
            "MONITORING_SLA_METRICS_PORT": "0",
            "MONITORING_SLA_TOKEN": "",
            "MONITORING_GRPC_TLS_CERT": "",
            "MONITORING_GRPC_TLS_KEY": "",
        }
        with running_sla_manager(env, tmp_path / "sla-manager.log"):
            address = f"127.0.0.1:{port}"
            cli(address, "apply", "-f", str(EXAMPLE))
            table = cli(address, "status", "node-health").stdout
            report = json.loads(
                cli(address, "status", "node-health", "-o", "json").stdout
            )
    check_table(table)
    check_json(report, began)


def check_table(table: str) -> None:
    assert "insufficient_data" not in table, table
    head, *rows = table.splitlines()
    assert WARMING_UP.search(head), head
    by_metric = {
        row.split()[1].split("{")[0]: row for row in rows if "node_" in row.split()[1]
    }
    assert set(by_metric) == set(windows()), table
    assert WARMING_UP.search(by_metric["node_load1"]), table
    for name in ("node_memory_MemAvailable_bytes", "node_procs_blocked"):
        assert by_metric[name].split()[2] == "ok", table


def check_json(report: dict[str, Any], began: int) -> None:
    """Each objective's status against the history's length at report time."""
    at = _seconds(report["at"])
    history = at - began
    window_of = windows()
    for objective in report["objectives"]:
        [series] = objective["series"]
        window = window_of[series["series"]["name"]]
        coverage = series["compliance"].get("coverage", 0.0)
        if history >= window:
            assert series["status"] == "STATUS_OK", series
            assert coverage == 1.0
            continue
        assert series["status"] == "STATUS_WARMING_UP", series
        assert series["compliance"]["warming_up"] is True
        # One slice of slack: the history may begin inside the window's first
        # measured slice, which then counts whole.
        assert abs(coverage - history / window) <= 60 / window, (coverage, history)


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
