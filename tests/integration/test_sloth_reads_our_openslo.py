"""Issue 14, criterion 4: Sloth v0.16.0, a real OpenSLO consumer, reads our SLOs.

``monitoring sla export --format openslo-v1alpha`` passes ``sloth validate``; the
SLI recording rules ``sloth generate`` writes from it, evaluated by a private
Prometheus over the backfilled ``tests.support.sla_dataset``, agree with the SLA
manager's own SLI of the same windows (judged through the real Prometheus
adapters at the same time): slice for slice at a time off the slice grid, and
within one slice at a time on it, where Prometheus 2's closed subquery range
holds one slice more (docs/openslo.md). Sloth's SLI of the whole 30d period is
the mean of its 5m ratios, another estimator: checked to be that, not compared.
"""

import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
import requests
import yaml

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.prometheus.client import PrometheusHttp
from adapters.prometheus.metric_source import PrometheusMetricSource
from adapters.prometheus.sample_source import PrometheusSampleSource
from apps.sla.openslo_cli import openslo_text
from monitoring_core.durations import parse_duration
from monitoring_core.services.sla_judgement import at
from monitoring_core.sla import ObjectiveDraft, Sla, SlaDraft, validate_sla
from tests.support import sla_dataset
from tests.support.openslo import mapping_slas
from tests.support.prometheus import backfill, private_prometheus
from tests.support.servers import binary
from tests.support.sla_services import sla_services

pytestmark = pytest.mark.timeout(180)

SLOTH_DEFAULT = Path.home() / ".cache/monitoring/sloth-v0.16.0/sloth"
NAME = "db-fleet-30d"
CLUSTER = 'cluster="db-1"'
OBJECTIVES = (
    ObjectiveDraft(
        selector=f"db_connections{{{CLUSTER}}}",
        lo=10.0,
        hi=50.0,
        target=0.99,
        window="30d",
        slice="1m",
    ),
    ObjectiveDraft(
        selector=f"db_replication_lag_seconds{{{CLUSTER}}}",
        hi=30.0,
        target=0.995,
        window="30d",
        slice="1m",
    ),
    ObjectiveDraft(
        selector=f"db_connections{{{CLUSTER}}}",
        lo=10.0,
        hi=50.0,
        target=0.95,
        window="28d",
        slice="5m",
    ),
)
OFF_GRID = sla_dataset.NOW
"""12:03:27.25: a rule evaluated off the slice grid, as Prometheus mostly does."""
ON_GRID = at(sla_dataset.E1 / 1000)
"""12:03:00.000, the end of a one-minute (not five-minute) slice."""


@attrs.frozen
class SlothRule:
    """One SLI recording rule of Sloth's output."""

    objective: int
    window: str
    expr: str


@pytest.fixture(scope="module")
def sla() -> Sla:
    return validate_sla(SlaDraft(name=NAME, objectives=OBJECTIVES))


@pytest.fixture(scope="module")
def sloth() -> str:
    return binary("sloth", str(SLOTH_DEFAULT))


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _export(sla: Sla, folder: Path) -> Path:
    path = folder / f"{sla.name}.openslo-v1alpha.yaml"
    path.write_text(openslo_text(sla, "openslo-v1alpha"))
    return path


def test_sloth_validate_passes_on_every_v1alpha_export(
    sloth: str, sla: Sla, tmp_path: Path
) -> None:
    exportable = [sla, *(s for s in mapping_slas() if s.name == "sloth-days")]
    for one in exportable:
        done = _run([sloth, "validate", "-i", str(_export(one, tmp_path))])
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Validation succeeded" in done.stderr + done.stdout


def test_sloth_validate_does_fail_on_a_broken_document(
    sloth: str, sla: Sla, tmp_path: Path
) -> None:
    path = _export(sla, tmp_path)
    path.write_text(path.read_text().replace("target: 0.99", "target: 1.5", 1))
    assert _run([sloth, "validate", "-i", str(path)]).returncode != 0


@pytest.fixture(scope="module")
def sloth_rules(
    sloth: str, sla: Sla, tmp_path_factory: pytest.TempPathFactory
) -> list[SlothRule]:
    folder = tmp_path_factory.mktemp("sloth")
    out = folder / "rules.yaml"
    done = _run([sloth, "generate", "-i", str(_export(sla, folder)), "-o", str(out)])
    assert done.returncode == 0, done.stderr[-2000:]
    found = []
    groups = [g for d in yaml.safe_load_all(out.read_text()) for g in d["groups"]]
    for group in groups:
        for rule in group["rules"]:
            if rule.get("record", "").startswith("slo:sli_error:ratio_rate"):
                labels = rule["labels"]
                index = int(labels["sloth_slo"].removeprefix(f"{NAME}-").split("-")[0])
                found.append(SlothRule(index, labels["sloth_window"], rule["expr"]))
    return found


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("sloth-prometheus") / "data"
    backfill(sla_dataset.to_openmetrics(sla_dataset.build()), folder)
    with private_prometheus(folder) as url:
        yield url


def _query(url: str, expr: str, moment: datetime) -> dict[frozenset[Any], float]:
    answer = requests.get(
        f"{url}/api/v1/query",
        params={"query": expr, "time": f"{moment.timestamp():.3f}"},
        timeout=30,
    )
    answer.raise_for_status()
    return {
        frozenset((k, v) for k, v in r["metric"].items() if k != "__name__"): float(
            r["value"][1]
        )
        for r in answer.json()["data"]["result"]
    }


def _ours(url: str, sla: Sla, moment: datetime, windows: list[int]) -> Any:
    http = PrometheusHttp(url, 30)
    clock = FixedClock(moment)
    manager = sla_services(
        repository=InMemorySlaRepository(clock),
        source=PrometheusMetricSource(http),
        samples=PrometheusSampleSource(http),
        forecasts=InMemoryResultStore(),
        clock=clock,
    )
    manager.definitions.apply(SlaDraft(name=NAME, objectives=OBJECTIVES))
    return manager.judgement.violations(NAME, windows)


def _compare(
    url: str, sla: Sla, rules: list[SlothRule], moment: datetime
) -> dict[str, int]:
    """Per objective, window and series: Sloth's SLI against ours, in slices."""
    windowed = [r for r in rules if r.window not in ("30d", "4w")]
    windows = sorted({parse_duration(r.window) for r in windowed})
    ours = _ours(url, sla, moment, windows)
    tally = {"exact": 0, "one slice": 0}
    for rule in windowed:
        seconds = parse_duration(rule.window)
        (report,) = [
            w for w in ours[rule.objective].windows if w.window_seconds == seconds
        ]
        sloth = _query(url, rule.expr, moment)
        for series in report.series:
            key = frozenset(series.series.labels)
            sli = series.report.sli
            if sli is None:
                assert key not in sloth or sloth[key] != sloth[key]
                continue
            measured = series.report.measured_slices
            theirs = 1.0 - sloth[key]
            where = (rule.objective, rule.window, dict(key), theirs, sli, measured)
            if abs(theirs - sli) < 1e-9:
                tally["exact"] += 1
            else:
                # one slice more or less, or one slice judged otherwise
                assert abs(theirs - sli) <= 1.0 / (measured - 1) + 1e-9, where
                tally["one slice"] += 1
        assert set(sloth) <= {frozenset(s.series.labels) for s in report.series}
    return tally


def test_sloths_sli_equals_ours_slice_for_slice_off_the_slice_grid(
    prometheus_url: str, sla: Sla, sloth_rules: list[SlothRule]
) -> None:
    assert {r.window for r in sloth_rules} >= {
        "5m",
        "30m",
        "1h",
        "2h",
        "6h",
        "1d",
        "3d",
    }
    tally = _compare(prometheus_url, sla, sloth_rules, OFF_GRID)
    assert tally["one slice"] == 0 and tally["exact"] >= 40, tally


def test_sloths_sli_is_within_one_slice_of_ours_on_the_slice_grid(
    prometheus_url: str, sla: Sla, sloth_rules: list[SlothRule]
) -> None:
    tally = _compare(prometheus_url, sla, sloth_rules, ON_GRID)
    assert tally["exact"] + tally["one slice"] >= 40, tally


def test_sloths_period_sli_is_the_mean_of_its_5m_ratios(
    sloth_rules: list[SlothRule],
) -> None:
    periods = [r for r in sloth_rules if r.window in ("30d", "4w")]
    assert len(periods) == len(OBJECTIVES)
    for rule in periods:
        assert rule.expr.startswith("sum_over_time(slo:sli_error:ratio_rate5m{")
        assert "count_over_time(slo:sli_error:ratio_rate5m{" in rule.expr
