"""Generated Prometheus rules, checked by Prometheus' own tool (promtool).

``promtool check rules`` on the rules of ``examples/``, ``tests/promtool/`` and
every SLA the tests define; ``promtool test rules`` on the unit tests of
``tests/promtool/`` (page, ticket, blip, two sides, predicted breach, stale
manager), whose rule file must be what the command generates today.
"""

import subprocess
from pathlib import Path

import pytest
import yaml

from apps.cli import main
from apps.sla.rules_cli import render
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.sla import Sla
from tests.support.servers import binary
from tests.support.sla_corpus import slas_in_tests

ROOT = Path(__file__).resolve().parents[3]
PROMTOOL_DIR = ROOT / "tests" / "promtool"
SLA_FILES = [*sorted(ROOT.glob("examples/*.yaml")), PROMTOOL_DIR / "slas.yaml"]
UNIT_TESTS = sorted(PROMTOOL_DIR.glob("*.test.yml"))
REGENERATE = (
    "monitoring sla rules -f tests/promtool/slas.yaml -o tests/promtool/rules.yml"
)


@pytest.fixture(scope="module")
def promtool() -> str:
    return binary("promtool", "/usr/bin/promtool")


def _check(promtool: str, path: Path) -> None:
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def _generate(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "rules.yml"
    assert main(["sla", "rules", *args, "-o", str(out)]) == 0
    return out


@pytest.mark.parametrize("sla_file", SLA_FILES, ids=lambda p: p.name)
def test_promtool_accepts_the_rules_of_every_sla_file(
    promtool: str, sla_file: Path, tmp_path: Path
) -> None:
    _check(promtool, _generate(tmp_path, "-f", str(sla_file)))


def test_promtool_accepts_the_rules_of_every_sla_in_the_tests(
    promtool: str, tmp_path: Path
) -> None:
    found = slas_in_tests()
    assert len(found) >= 5, "the collector lost the tests' SLAs"
    slas: dict[str, tuple[Sla, AlertingPolicy]] = {}
    for _where, sla in found:
        slas.setdefault(sla.name, (sla, AlertingPolicy()))
    path = tmp_path / "rules.yml"
    path.write_text(render(list(slas.values()), 300, "http://console/{sla}"))
    _check(promtool, path)
    groups = yaml.safe_load(path.read_text())["groups"]
    objectives = sum(len(sla.objectives) for sla, _ in slas.values())
    assert len(groups) == objectives + 1  # one per objective, one for the manager


def test_the_committed_rule_file_is_what_the_command_generates(
    tmp_path: Path,
) -> None:
    fresh = _generate(tmp_path, "-f", str(PROMTOOL_DIR / "slas.yaml"))
    committed = PROMTOOL_DIR / "rules.yml"
    assert fresh.read_text() == committed.read_text(), f"run: {REGENERATE}"


def test_promtool_unit_tests_of_the_generated_rules_pass(promtool: str) -> None:
    assert {p.name for p in UNIT_TESTS} >= {
        "fast_burn.test.yml",
        "slow_burn.test.yml",
        "blip.test.yml",
        "two_sided.test.yml",
        "predicted_breach.test.yml",
        "manager_stale.test.yml",
    }
    # One promtool per file, all at once: each takes seconds (3d subqueries).
    running = {
        path.name: subprocess.Popen(
            [promtool, "test", "rules", path.name],
            cwd=PROMTOOL_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for path in UNIT_TESTS
    }
    failed = {}
    for name, process in running.items():
        out, _ = process.communicate(timeout=120)
        if process.returncode != 0 or "SUCCESS" not in out:
            failed[name] = out
    assert not failed, "\n".join(failed.values())


def test_the_prometheus_rule_format_holds_the_same_groups(tmp_path: Path) -> None:
    source = str(PROMTOOL_DIR / "slas.yaml")
    plain = yaml.safe_load(_generate(tmp_path, "-f", source).read_text())
    out = tmp_path / "k8s.yml"
    args = ["sla", "rules", "-f", source, "--format", "prometheus-rule"]
    assert main([*args, "--name", "payments-slos", "-o", str(out)]) == 0
    resource = yaml.safe_load(out.read_text())
    assert resource["apiVersion"] == "monitoring.coreos.com/v1"
    assert resource["kind"] == "PrometheusRule"
    assert resource["metadata"]["name"] == "payments-slos"
    assert resource["spec"]["groups"] == plain["groups"]


def test_the_example_in_the_docs_is_the_generated_file() -> None:
    docs = (ROOT / "docs" / "alerting.md").read_text()
    assert (PROMTOOL_DIR / "rules.yml").read_text() in docs
