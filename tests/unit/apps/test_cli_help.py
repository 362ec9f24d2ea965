"""``monitoring --help`` and each service's ``--help``, checked against the README.

The README's configuration tables are the reference: a service's help must list
every variable of its own table, and only variables of the tables it names.
"""

import re
from pathlib import Path

import pytest

from apps.cli import main

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ["etl", "storage", "api", "sla-manager", "run"]
OWN_TABLES = {
    "etl": ["ETL"],
    "storage": ["Storage"],
    "api": ["REST API"],
    "sla-manager": ["SLA manager"],
    "run": ["ETL", "Storage", "REST API", "SLA manager"],
}


def readme_tables() -> dict[str, set[str]]:
    """Variables of each table of README's Configuration section, by title."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, set[str]] = {}
    title = ""
    for line in section.splitlines():
        if line.endswith(":") and not line.startswith("|"):
            title = line.removesuffix(":")
            tables[title] = set()
        elif row := re.match(r"\| `(MONITORING_[A-Z0-9_]+)` \|", line):
            tables[title].add(row.group(1))
    return tables


def table(tables: dict[str, set[str]], title: str) -> set[str]:
    """The table whose heading starts with ``title`` (headings name the command)."""
    (found,) = [v for k, v in tables.items() if k == title or k.startswith(title)]
    return found


def help_of(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[str, list[str]]:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    listed = out.split("This command reads: ", 1)[1].rstrip(".").split(", ")
    return out, listed


@pytest.mark.parametrize("command", SERVICES)
def test_a_service_help_lists_the_variables_of_its_readme_table(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out, listed = help_of([command], capsys)
    tables = readme_tables()
    named = re.search(r'section "Configuration", tables? (.*)\. This', out)
    assert named, out
    titles = re.findall(r'"([^"]+)"', named.group(1))
    described = set().union(*(table(tables, t) for t in titles))
    own = set().union(*(table(tables, t) for t in OWN_TABLES[command]))
    assert sorted(own - set(listed)) == [], "variables of its table not listed"
    assert sorted(set(listed) - described) == [], "listed but not in those tables"
    assert "MONITORING_LOG_LEVEL" in listed and len(listed) == len(set(listed))


def test_the_top_level_help_names_every_sla_action(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    top = " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["sla", "--help"])
    actions = re.search(r"\{(apply,[a-z,]+)\}", capsys.readouterr().out)
    assert actions, "monitoring sla --help lists its actions"
    names = actions.group(1).split(",")
    assert "score" in names
    summary = re.search(r"sla SLA client: ((?:[a-z]+, )*[a-z]+)", top)
    assert summary, top
    assert sorted(summary.group(1).split(", ")) == sorted(names)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        pytest.param(
            ["predict", "x", "--horizon", "-1m"],
            "--horizon -1m: horizon must be positive",
            id="horizon",
        ),
        pytest.param(
            ["violations", "x", "--window", "-1h"],
            "--window -1h: window must be positive",
            id="window",
        ),
        pytest.param(
            ["score", "x", "--lookback", "-30m"],
            "--lookback -30m: lookback must be positive",
            id="lookback",
        ),
    ],
)
def test_a_negative_duration_is_a_domain_error_not_an_argparse_one(
    argv: list[str],
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Refused before any call: no server listens on this port.
    monkeypatch.setenv("MONITORING_SLA_ADDRESS", "127.0.0.1:9")
    assert main(["sla", *argv]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"monitoring sla: {says}\n")
