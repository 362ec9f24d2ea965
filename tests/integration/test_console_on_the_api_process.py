"""Issue 15: the console's SLA pages on a standalone ``monitoring api`` process.

Real processes on the local Prometheus (node-exporter scraped every 5 s): an
SLA manager (``monitoring sla-manager``) and a REST API (``monitoring api``)
told where it is by ``MONITORING_SLA_ADDRESS``; the SLA is applied with the
CLI. The overview and the SLA detail page of the API process must show the
figures the manager's gRPC ``GetStatus`` gives (read from the JSON block the
pages embed); with the manager killed they answer a readable 503, and they
recover once it is back (ADR 0056).
"""

import json
import re
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from adapters.grpc.client import SlaClient
from adapters.grpc.convert import STATUS_NAMES
from adapters.grpc.generated import sla_manager_pb2 as pb
from tests.support.grpc import free_port, monitoring_command
from tests.support.processes import (
    Service,
    base_environment,
    eventually,
    start_service,
    wait_for_grpc,
    wait_for_http,
)
from tests.support.servers import server

# One objective always good, one always bad (``up`` is 1, above 0.5): the
# figures differ between objectives and stay the same from one slice to the next.
SLA_FILE = """\
name: console-check
description: seen on the API process
objectives:
  - selector: 'node_load1{job="node"}'
    lo: 0.0
    hi: 1000.0
    target: 0.9
    window: 2m
    slice: 15s
  - selector: 'up{job="node"}'
    hi: 0.5
    target: 0.9
    window: 2m
    slice: 15s
"""
DEADLINE = 60.0
WINDOW_SECONDS = 120
"""The objectives' window: the local Prometheus must hold that much history, or
the good objective is rightly ``warming_up`` instead of ``ok`` (it is started
with the test run, minutes before this test on a fresh machine)."""


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    with server("PROMETHEUS_URL") as url:
        yield url


def _wait_for_history(prometheus: str) -> None:
    """Until node-exporter's samples reach a full window (and a slice) back."""
    query = f'node_load1{{job="node"}} offset {WINDOW_SECONDS + 15}s'

    def covered() -> None:
        answer = requests.get(
            f"{prometheus}/api/v1/query", params={"query": query}, timeout=10
        )
        assert answer.json()["data"]["result"], "history younger than the window"

    eventually(covered, timeout=WINDOW_SECONDS + 60, what="a window of history")


def _sla_manager(folder: Path, prometheus: str, grpc_port: int) -> Service:
    env = {
        "MONITORING_PROMETHEUS_URL": prometheus,
        "MONITORING_DATABASE_URL": f"sqlite:///{folder / 'monitoring.db'}",
        "MONITORING_GRPC_PORT": str(grpc_port),
        "MONITORING_SLA_METRICS_PORT": "0",
        "MONITORING_SLA_REFRESH_SECONDS": "2",
    }
    name = f"sla-manager-{uuid.uuid4().hex[:6]}"
    service = start_service(name, ["sla-manager"], env, folder)
    wait_for_grpc(f"127.0.0.1:{grpc_port}", service)
    return service


def _api(folder: Path, grpc_port: int, api_port: int) -> Service:
    env = {
        "MONITORING_DATABASE_URL": f"sqlite:///{folder / 'monitoring.db'}",
        "MONITORING_API_PORT": str(api_port),
        "MONITORING_API_WORKERS": "1",
        "MONITORING_SLA_ADDRESS": f"127.0.0.1:{grpc_port}",
    }
    service = start_service(f"api-{uuid.uuid4().hex[:6]}", ["api"], env, folder)
    wait_for_http(f"http://127.0.0.1:{api_port}/healthz", [service])
    return service


def _apply(grpc: str, folder: Path) -> None:
    path = folder / "sla.yaml"
    path.write_text(SLA_FILE)
    done = subprocess.run(
        [monitoring_command(), "sla", "apply", "-f", str(path)],
        env={**base_environment(), "MONITORING_SLA_ADDRESS": grpc},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _page_data(text: str) -> Any:
    found = re.search(
        r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S
    )
    assert found is not None, text[:500]
    return json.loads(found.group(1))


def _worst(values: list[float | None], pick: Any) -> float | None:
    known = [v for v in values if v is not None]
    return pick(known) if known else None


def _status_figures(report: pb.PredictionReport) -> list[dict[str, Any]]:
    """Each objective's compliance figures as ``GetStatus`` gives them: the worst
    series' for each figure (the console's and ``/metrics``' rule)."""
    found = []
    for objective in report.objectives:
        reports = [s.compliance for s in objective.series]
        found.append(
            {
                "status": STATUS_NAMES[objective.status],
                "sli": _worst(
                    [r.sli if r.HasField("sli") else None for r in reports], min
                ),
                "budget_remaining": _worst(
                    [
                        r.budget_remaining if r.HasField("budget_remaining") else None
                        for r in reports
                    ],
                    min,
                ),
                "burn_rate": _worst(
                    [r.burn_rate if r.HasField("burn_rate") else None for r in reports],
                    max,
                ),
            }
        )
    return found


def _detail_figures(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each objective's compliance window (the last) on the detail page."""
    assert all(o["windows"] for o in data["objectives"]), "not refreshed yet"
    return [
        {
            "status": o["status"],
            "sli": o["windows"][-1]["sli"],
            "budget_remaining": o["windows"][-1]["budget_remaining"],
            "burn_rate": o["windows"][-1]["burn_rate"],
        }
        for o in data["objectives"]
    ]


def test_the_api_process_shows_the_managers_figures_and_survives_its_absence(
    tmp_path: Path, prometheus_url: str, services: list[Service]
) -> None:
    grpc_port, api_port = free_port(), free_port()
    grpc = f"127.0.0.1:{grpc_port}"
    ui = f"http://127.0.0.1:{api_port}/ui"
    _wait_for_history(prometheus_url)
    manager = _sla_manager(tmp_path, prometheus_url, grpc_port)
    services.append(manager)
    _apply(grpc, tmp_path)
    api = _api(tmp_path, grpc_port, api_port)
    services.append(api)

    def same_figures() -> tuple[dict[str, Any], dict[str, Any]]:
        with SlaClient(grpc, timeout_seconds=10) as client:
            before = _status_figures(client.status("console-check"))
            detail = requests.get(f"{ui}/sla/console-check?range=1h", timeout=30)
            overview = requests.get(ui, timeout=30)
            after = _status_figures(client.status("console-check"))
        assert detail.status_code == 200 and overview.status_code == 200
        shown = _detail_figures(_page_data(detail.text))
        # The state refreshes every 2 s; both reads between two equal answers.
        assert before == after == shown, (before, shown, after)
        return _page_data(overview.text), _page_data(detail.text)

    overview, detail = eventually(
        same_figures, timeout=DEADLINE, what="the pages' figures", services=services
    )
    good, bad = _detail_figures(detail)
    assert good["sli"] == 1.0 and good["status"] == "ok"
    assert bad["sli"] == 0.0 and bad["status"] == "violating"
    assert bad["budget_remaining"] < 0 < good["budget_remaining"]
    [row] = overview["slas"]
    assert row["name"] == "console-check" and row["objectives"] == 2
    assert row["status"] == "violating"
    assert row["budget_remaining"] == bad["budget_remaining"]
    charted = [o["charts"][0]["series"]["name"] for o in detail["objectives"]]
    assert charted == ["node_load1", "up"]

    manager.signal(signal.SIGKILL)
    assert manager.wait(10) == -signal.SIGKILL
    for path in ("", "/sla/console-check", "/sla/console-check/budget?objective=1"):
        page = requests.get(f"{ui}{path}", timeout=30)
        assert page.status_code == 503, (path, page.status_code)
        assert "Temporarily unavailable" in page.text
        assert f"SLA manager at {grpc}" in page.text
        assert "Traceback" not in page.text

    restarted = _sla_manager(tmp_path, prometheus_url, grpc_port)
    services.append(restarted)

    def back() -> None:
        page = requests.get(f"{ui}/sla/console-check/budget?objective=1", timeout=30)
        assert page.status_code == 200, page.status_code
        burn = _page_data(page.text)
        assert burn["sla"] == "console-check" and burn["series"][0]["budget"]

    eventually(back, timeout=DEADLINE, what="the pages after a restart", services=[api])
    assert api.alive()
