"""Issue 14, live wiring (ADR 0048): the SLA manager keeps a real Prometheus' rules.

The real ``monitoring sla-manager`` process writes its rule file into the rules
directory the Prometheus of scripts/services.sh loads (``rule_files`` glob) and
reloads it over ``/-/reload``. An SLA applied shows up as a rule group in
Prometheus' ``/api/v1/rules``, with its own alerting settings; deleted, the
group goes. The file is removed and Prometheus reloaded at the end.
"""

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.support.grpc import free_port, monitoring_command, running_sla_manager
from tests.support.servers import server

pytestmark = pytest.mark.timeout(120)

LOAD = 'node_load1{job="node"}'


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    with server("PROMETHEUS_URL") as url:
        yield url


@pytest.fixture(scope="module")
def rules_dir(prometheus_url: str) -> Iterator[Path]:
    with server("PROMETHEUS_RULES_DIR") as found:
        path = Path(found)
    config = requests.get(f"{prometheus_url}/api/v1/status/config", timeout=10)
    if str(path) not in config.json()["data"]["yaml"]:
        pytest.fail(
            f"the Prometheus at {prometheus_url} does not load {path}/*.yml: run "
            "scripts/services.sh up prometheus (it brings the configuration up to "
            "date and reloads it)"
        )
    yield path


def groups_of(prometheus_url: str, file: Path) -> dict[str, dict[str, Any]]:
    answer = requests.get(f"{prometheus_url}/api/v1/rules", timeout=10).json()
    return {g["name"]: g for g in answer["data"]["groups"] if g["file"] == str(file)}


def wait_for(
    prometheus_url: str,
    file: Path,
    check: Callable[[dict[str, dict[str, Any]]], bool],
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        got = groups_of(prometheus_url, file)
        if check(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def sla(address: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_SLA")}
    env["MONITORING_SLA_ADDRESS"] = address
    done = subprocess.run(
        [monitoring_command(), "sla", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, ""), done


def test_an_sla_applied_and_deleted_comes_and_goes_in_prometheus(
    prometheus_url: str, rules_dir: Path, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    name, rules = f"live-{tag}", rules_dir / f"live-test-{tag}.yml"
    port = free_port()
    env = {
        "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'sla.db'}",
        "MONITORING_PROMETHEUS_URL": prometheus_url,
        "MONITORING_GRPC_PORT": str(port),
        "MONITORING_SLA_METRICS_PORT": "0",
        "MONITORING_GRPC_TLS_CERT": "",
        "MONITORING_GRPC_TLS_KEY": "",
        "MONITORING_RULES_FILE": str(rules),
        "MONITORING_PROMETHEUS_RELOAD_URL": f"{prometheus_url}/-/reload",
    }
    document = tmp_path / "sla.yaml"
    document.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "objectives": [
                    {"selector": LOAD, "hi": 100.0, "target": 0.99, "window": "1h"}
                ],
                "alerting": {"predicted_breach": {"probability": 0.8, "for": "1m"}},
            }
        )
    )
    address, group = f"127.0.0.1:{port}", f"monitoring-sla-{name}-0"
    try:
        with running_sla_manager(env, tmp_path / "sla-manager.log"):
            # Once at start: the file with the stale-manager group only.
            got = wait_for(prometheus_url, rules, lambda g: bool(g))
            assert list(got) == ["monitoring-sla-manager"], got

            sla(address, "apply", "-f", str(document))
            got = wait_for(prometheus_url, rules, lambda g: group in g)
            assert group in got, (got, (tmp_path / "sla-manager.log").read_text())
            (breach,) = [
                r for r in got[group]["rules"] if r["name"] == "SLOPredictedBreach"
            ]
            assert breach["query"].endswith("> 0.8") and breach["duration"] == 60
            kinds = {r["type"] for r in got[group]["rules"]}
            assert kinds == {"recording", "alerting"}

            sla(address, "delete", name)
            got = wait_for(prometheus_url, rules, lambda g: group not in g)
            assert list(got) == ["monitoring-sla-manager"], got
        log = (tmp_path / "sla-manager.log").read_text()
        assert "Traceback" not in log and "Prometheus reloaded" in log, log
    finally:
        rules.unlink(missing_ok=True)
        requests.post(f"{prometheus_url}/-/reload", timeout=30)
    assert not groups_of(prometheus_url, rules)
