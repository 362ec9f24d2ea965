"""Issue 14, SLO state on /metrics: the running ``monitoring sla-manager`` scraped.

The manager runs as a real process on the local Prometheus (its node-exporter
scraped as job "node") and a fresh SQLite file, refreshing every second. Its
``/metrics`` is scraped over HTTP and parsed with prometheus_client's parser;
the SLIs are checked against a recount of Prometheus' raw samples
(``tests.support.slo_recount``, tolerance one slice: the refresh's window end
is known to the minute it ran in) and against figures that follow from the
objective alone (a range no value can be in).
"""

import math
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support import slo_recount
from tests.support.grpc import free_port, monitoring_command, running_sla_manager
from tests.support.servers import server

pytestmark = pytest.mark.timeout(120)

TOKEN = "state-Token.1"
NAME = "state-e2e"
LOAD = 'node_load1{job="node"}'
SLA = {
    "name": NAME,
    "objectives": [
        {"selector": LOAD, "lo": 0.0, "hi": 1.0, "target": 0.9, "window": "15m"},
        # No load is below -1: every measured slice is bad, above.
        {"selector": LOAD, "hi": -1.0, "target": 0.9, "window": "15m"},
    ],
}
Scraped = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def prometheus_url() -> Iterator[str]:
    with server("PROMETHEUS_URL") as url:
        yield url


def sla(address: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_SLA")}
    env.update(MONITORING_SLA_ADDRESS=address, MONITORING_SLA_TOKEN=TOKEN)
    done = subprocess.run(
        [monitoring_command(), "sla", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, ""), done
    return done.stdout


def scrape(url: str) -> Scraped:
    text = requests.get(url, timeout=10).text
    found: Scraped = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert sample.timestamp is None, sample  # stamped by the scrape
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def wait_for(url: str, check: Callable[[Scraped], bool]) -> Scraped:
    deadline = time.monotonic() + 30
    while True:
        got = scrape(url)
        if check(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def rows(
    got: Scraped, name: str, **labels: str
) -> dict[frozenset[tuple[str, str]], float]:
    want = set(labels.items())
    return {k: v for (n, k), v in got.items() if n == name and want <= k}


def raw_samples(url: str, end: float) -> dict[str, list[tuple[int, float]]]:
    """Every node_load1 series' samples ``(ms, value)`` in the hour before ``end``."""
    answer = requests.get(
        f"{url}/api/v1/query",
        params={"query": f"{LOAD}[3600000ms]", "time": f"{end - 0.001:.3f}"},
        timeout=30,
    ).json()
    return {
        item["metric"]["instance"]: [
            (round(float(t) * 1000), float(v))
            for t, v in item["values"]
            if not math.isnan(float(v))
        ]
        for item in answer["data"]["result"]
    }


def test_the_running_manager_shows_each_objective_on_metrics(
    prometheus_url: str, tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    env = {
        "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'sla.db'}",
        "MONITORING_PROMETHEUS_URL": prometheus_url,
        "MONITORING_GRPC_PORT": str(port),
        "MONITORING_SLA_TOKEN": TOKEN,
        "MONITORING_SLA_METRICS_PORT": str(metrics_port),
        "MONITORING_SLA_REFRESH_SECONDS": "1",
        "MONITORING_SLA_SERIES_LABEL_CAP": "10",
        "MONITORING_GRPC_TLS_CERT": "",
        "MONITORING_GRPC_TLS_KEY": "",
    }
    address, url = f"127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    document = tmp_path / "sla.yaml"
    document.write_text(yaml.safe_dump(SLA))
    with running_sla_manager(env, tmp_path / "sla-manager.log"):
        sla(address, "apply", "-f", str(document))
        got = wait_for(
            url, lambda g: bool(rows(g, "monitoring_sla_sli_ratio", sla=NAME))
        )
        check_sli(got, prometheus_url)
        check_always_bad(got)
        stamp = got[("monitoring_sla_refresh_timestamp_seconds", frozenset())]
        assert time.time() - 30 < stamp <= time.time()
        later = wait_for(
            url,
            lambda g: (
                g[("monitoring_sla_refresh_timestamp_seconds", frozenset())] > stamp
            ),
        )
        assert later[("monitoring_sla_refresh_timestamp_seconds", frozenset())] > stamp

        sla(address, "delete", NAME)
        gone = wait_for(url, lambda g: not any(("sla", NAME) in k for _, k in g))
        assert not any(("sla", NAME) in k for _, k in gone)
        assert ("monitoring_sla_refresh_timestamp_seconds", frozenset()) in gone


def check_sli(got: Scraped, prometheus_url: str) -> None:
    """Objective 0 over 1h: the worst series' SLI, recounted from raw samples."""
    stamp = got[("monitoring_sla_refresh_timestamp_seconds", frozenset())]
    end = math.floor(stamp / 60) * 60
    samples = raw_samples(prometheus_url, end)
    assert samples, "node_load1 of job node"
    recounted = {}
    for instance, found in samples.items():
        figures = slo_recount.window(
            found,
            lo=0.0,
            hi=1.0,
            target=0.9,
            slice_seconds=60,
            end=end * 1000,
            window_seconds=3600,
        )
        recounted[instance] = (
            figures["sli"],
            figures["good_slices"] + figures["above_slices"] + figures["below_slices"],
        )
    worst, measured = min(v for v in recounted.values() if v[0] is not None)
    (sli,) = rows(
        got, "monitoring_sla_sli_ratio", sla=NAME, objective="0", window="1h"
    ).values()
    assert abs(sli - worst) <= 1 / measured + 1e-9, (sli, worst, measured, recounted)
    per_series = rows(
        got, "monitoring_sla_series_sli_ratio", sla=NAME, objective="0", window="1h"
    )
    assert len(per_series) == len(samples)
    assert min(per_series.values()) == sli
    (count,) = rows(
        got, "monitoring_sla_objective_series", sla=NAME, objective="0"
    ).values()
    assert count == len(samples)


def check_always_bad(got: Scraped) -> None:
    """Objective 1: every measured slice is above, so SLI 0 and burn 1 / (1 - T)."""
    at = {"sla": NAME, "objective": "1"}
    for window in ("1h", "3h", "12h", "15m"):
        (sli,) = rows(got, "monitoring_sla_sli_ratio", **at, window=window).values()
        (burn,) = rows(
            got, "monitoring_sla_burn_rate_ratio", **at, window=window
        ).values()
        (left,) = rows(
            got, "monitoring_sla_error_budget_remaining_ratio", **at, window=window
        ).values()
        (below,) = rows(
            got, "monitoring_sla_bad_slices", **at, window=window, side="below"
        ).values()
        assert (sli, below) == (0.0, 0.0)
        assert burn == pytest.approx(10.0)
        assert left == pytest.approx(-9.0)
    statuses = rows(got, "monitoring_sla_status", **at)
    assert sorted(statuses.values()) == [0, 0, 0, 0, 1]
    (current,) = [dict(k)["status"] for k, v in statuses.items() if v == 1]
    assert current in ("violating", "warming_up", "insufficient_data")
    # No forecast in a fresh database: nothing predicted, so no such gauge.
    assert not rows(got, "monitoring_sla_predicted_bad_slice_probability_ratio", **at)
