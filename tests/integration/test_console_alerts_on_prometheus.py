"""Issue 15, alert state (ADR 0057): the console shows what Prometheus' alerts say.

A real ``monitoring run`` keeps its live rule file in the rules directory of
the Prometheus of scripts/services.sh (ADR 0048) and reloads it. One SLA is
violated by construction (node_load1 must stay at or below -1, which no load
is), so Prometheus' burn-rate alerts for it fire at the first evaluation of
its rules; another cannot be violated. The console's overview must say
"firing" and "none" for them, and the SLA's detail page must list exactly the
alerts Prometheus' own ``/api/v1/alerts`` holds for it, with the same state
and activation time.
"""

import html
import os
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import requests
import yaml

from tests.support.grpc import free_port, monitoring_command
from tests.support.processes import (
    Service,
    eventually,
    start_service,
    wait_for_grpc,
    wait_for_http,
)
from tests.support.servers import server

pytestmark = pytest.mark.timeout(240)
T = TypeVar("T")

LOAD = 'node_load1{job="node"}'
DEADLINE = 120.0


@pytest.fixture(scope="module")
def prometheus() -> Iterator[tuple[str, Path]]:
    with server("PROMETHEUS_URL") as url, server("PROMETHEUS_RULES_DIR") as rules:
        config = requests.get(f"{url}/api/v1/status/config", timeout=10)
        if rules not in config.json()["data"]["yaml"]:
            pytest.fail(
                f"the Prometheus at {url} does not load {rules}/*.yml: run "
                "scripts/services.sh up prometheus"
            )
        yield url, Path(rules)


def sla_file(folder: Path, name: str, hi: float) -> Path:
    document = {
        "name": name,
        "objectives": [
            # 10 s slices: the rule group is evaluated every 10 s.
            {"selector": LOAD, "hi": hi, "target": 0.9, "window": "10m", "slice": "10s"}
        ],
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def apply(address: str, path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_")}
    done = subprocess.run(
        [monitoring_command(), "sla", "apply", "-f", str(path)],
        env={**env, "MONITORING_SLA_ADDRESS": address},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def prometheus_alerts(url: str, sla: str) -> dict[str, tuple[str, str]]:
    """Prometheus' own answer: alert name -> (state, activeAt to the ms)."""
    answer = requests.get(f"{url}/api/v1/alerts", timeout=10).json()
    return {
        a["labels"]["alertname"]: (a["state"], _millis(a["activeAt"]))
        for a in answer["data"]["alerts"]
        if a["labels"].get("sla") == sla
    }


def _millis(stamp: str) -> str:
    """``2026-12-05T14:01:02.123456789Z`` -> ``2026-12-05T14:01:02.123``."""
    whole, _, rest = stamp.rstrip("Z").partition(".")
    return f"{whole}.{(rest + '000')[:3]}"


def page_alerts(page: str) -> dict[str, tuple[str, str]]:
    """The detail page's alert rows: name -> (state, since to the ms)."""
    rows = re.findall(r'<tr data-alert="(\w+)">(.*?)</tr>', page, re.S)
    found = {}
    for name, row in rows:
        state = re.search(r'<td class="alert-(\w+)">', row)
        since = re.search(r'<time datetime="([^"]+)Z">', row)
        assert state and since, row
        found[name] = (state.group(1), since.group(1))
    return found


def overview_states(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-sla="([^"]+)">(.*?)</tr>', page, re.S)
    states = {}
    for name, row in rows:
        found = re.search(r'data-alerts="(\w+)"', row)
        assert found, row
        states[html.unescape(name)] = found.group(1)
    return states


def until(check: Callable[[], T], what: str, run: Service) -> T:
    return eventually(check, timeout=DEADLINE, what=what, services=[run], interval=1.0)


def test_the_console_shows_the_alerts_prometheus_fires_for_an_sla(
    prometheus: tuple[str, Path], tmp_path: Path
) -> None:
    url, rules_dir = prometheus
    tag = uuid.uuid4().hex[:8]
    burning, calm = f"burning-{tag}", f"calm-{tag}"
    rules = rules_dir / f"console-alerts-{tag}.yml"
    api_port, grpc_port = free_port(), free_port()
    env = {
        "MONITORING_PROMETHEUS_URL": url,
        "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "MONITORING_API_PORT": str(api_port),
        "MONITORING_GRPC_PORT": str(grpc_port),
        "MONITORING_SERIES_SELECTORS": LOAD,
        "MONITORING_FORECAST_SELECTORS": "none",
        "MONITORING_SLA_REFRESH_SECONDS": "2",
        "MONITORING_RULES_FILE": str(rules),
        "MONITORING_PROMETHEUS_RELOAD_URL": f"{url}/-/reload",
        "MONITORING_ETL_STATE_PATH": "none",
    }
    run = start_service("run", ["run"], env, tmp_path / "run")
    api = f"http://127.0.0.1:{api_port}"
    try:
        wait_for_grpc(f"127.0.0.1:{grpc_port}", run)
        wait_for_http(f"{api}/healthz", [run])
        for name, hi in ((burning, -1.0), (calm, 1e9)):
            apply(f"127.0.0.1:{grpc_port}", sla_file(tmp_path, name, hi))

        def fired() -> dict[str, tuple[str, str]]:
            found = prometheus_alerts(url, burning)
            assert found.get("SLOBurnRatePage", ("",))[0] == "firing", found
            return found

        until(fired, "Prometheus firing SLOBurnRatePage for the SLA", run)

        def overview() -> dict[str, str]:
            page = requests.get(f"{api}/ui", timeout=30)
            assert page.status_code == 200, page.text[-2000:]
            states = overview_states(page.text)
            assert states == {burning: "firing", calm: "none"}, states
            assert prometheus_alerts(url, calm) == {}
            return states

        until(overview, "the overview's alert column", run)

        def detail() -> dict[str, tuple[str, str]]:
            page = requests.get(f"{api}/ui/sla/{burning}", timeout=30)
            assert page.status_code == 200, page.text[-2000:]
            shown = page_alerts(page.text)
            # Equal to Prometheus' answer read independently, just after.
            assert shown == prometheus_alerts(url, burning), shown
            assert 'data-alerts="firing"' in page.text
            assert f'href="{url}/alerts"' in page.text
            return shown

        shown = until(detail, "the detail page's alerts equal Prometheus'", run)
        assert shown["SLOBurnRatePage"][0] == "firing"
        calm_page = requests.get(f"{api}/ui/sla/{calm}", timeout=30).text
        assert "No alert of this SLA is pending or firing" in calm_page
        assert "Traceback" not in run.stderr.read_text()
    finally:
        run.kill()
        rules.unlink(missing_ok=True)
        requests.post(f"{url}/-/reload", timeout=30)
