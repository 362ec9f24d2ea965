"""PrometheusAlertStates passes the AlertStates contract on the real Prometheus.

The contract's rules are written as a rule file into the rules directory the
Prometheus of scripts/services.sh loads, Prometheus is reloaded, and the test
waits until it has evaluated them; the file is removed (and Prometheus
reloaded) at the end.
"""

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import yaml

from adapters.prometheus.alert_states import PrometheusAlertStates
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.rules import number
from monitoring_core.ports import AlertStates
from tests.contracts.alert_states_contract import (
    CONTRACT_LABEL,
    RULES,
    AlertStatesContract,
    ContractRule,
    Held,
)
from tests.support.prometheus import free_port
from tests.support.servers import server

pytestmark = pytest.mark.timeout(90)


def rule_of(rule: ContractRule, tag: str) -> dict[str, object]:
    value = number(rule.value)
    return {
        "alert": rule.name,
        "expr": f"vector({value})" if rule.holds else f"vector({value}) < 0",
        "for": f"{rule.for_seconds}s",
        "labels": {**rule.labels, CONTRACT_LABEL: tag},
    }


def evaluated(url: str, tag: str) -> bool:
    answer = requests.get(f"{url}/api/v1/alerts", timeout=10).json()
    ours = {
        a["labels"]["alertname"]
        for a in answer["data"]["alerts"]
        if a["labels"].get(CONTRACT_LABEL) == tag
    }
    return ours == {r.name for r in RULES if r.holds}


@pytest.fixture(scope="module")
def prometheus() -> Iterator[tuple[str, Path]]:
    with server("PROMETHEUS_URL") as url, server("PROMETHEUS_RULES_DIR") as rules:
        config = requests.get(f"{url}/api/v1/status/config", timeout=10)
        if rules not in config.json()["data"]["yaml"]:
            pytest.fail(f"the Prometheus at {url} does not load {rules}/*.yml")
        yield url, Path(rules)


@pytest.fixture(scope="module")
def loaded(prometheus: tuple[str, Path]) -> Iterator[Held]:
    url, rules = prometheus
    tag = uuid.uuid4().hex[:8]
    file = rules / f"alert-states-contract-{tag}.yml"
    group = {
        "name": f"alert-states-contract-{tag}",
        "interval": "1s",
        "rules": [rule_of(r, tag) for r in RULES],
    }
    started = datetime.now(UTC)
    file.write_text(yaml.safe_dump({"groups": [group]}))
    try:
        requests.post(f"{url}/-/reload", timeout=30).raise_for_status()
        deadline = time.monotonic() + 30
        while not evaluated(url, tag) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield Held(PrometheusAlertStates(PrometheusHttp(url, 10)), tag, started)
    finally:
        file.unlink(missing_ok=True)
        requests.post(f"{url}/-/reload", timeout=30)


class TestPrometheusAlertStates(AlertStatesContract):
    @pytest.fixture
    def held(self, loaded: Held) -> Held:
        return loaded

    @pytest.fixture
    def unreachable(self) -> AlertStates:
        return PrometheusAlertStates(
            PrometheusHttp(f"http://127.0.0.1:{free_port()}", 5)
        )


def test_state_active_at_and_value_equal_the_raw_http_answer(
    prometheus: tuple[str, Path], loaded: Held
) -> None:
    """Independent reference: the JSON of ``/api/v1/alerts`` read by hand."""
    raw = requests.get(f"{prometheus[0]}/api/v1/alerts", timeout=10).json()
    expected = {
        a["labels"]["alertname"]: (
            a["state"],
            a["activeAt"][:26].rstrip("Z"),
            float(a["value"]),
        )
        for a in raw["data"]["alerts"]
        if a["labels"].get(CONTRACT_LABEL) == loaded.tag
    }
    got = {
        a.name: (
            a.state.value,
            a.active_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[: len(expected[a.name][1])]
            if a.active_at
            else "",
            a.value,
        )
        for a in loaded.states.active()
        if a.labels.get(CONTRACT_LABEL) == loaded.tag
    }
    assert got == expected
    assert len(got) == 3
