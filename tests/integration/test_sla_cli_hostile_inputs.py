"""Issue #11, acceptance 6 for SLA files and CLI flags: each hostile input gets
its exact exit code and one clear line from the real ``monitoring sla`` client,
talking to a real ``monitoring sla-manager`` (SQLite, the local Prometheus), and
nothing is stored: the ``slas`` table is byte-for-byte what it was before.
"""

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from tests.support.grpc import free_port, monitoring_command, running_sla_manager
from tests.support.servers import server

TOKEN = "hostile-Token.7"
WEB = """\
name: web-tier
objectives:
  - selector: 'node_load1{job="node"}'
    hi: 64
    target: 0.9
    window: 1h
  - selector: 'node_load5{job="node"}'
    hi: 64
    target: 0.9
    window: 1h
    slice: 5m
"""
"""Stored before every test: one objective in 1m slices, one in 5m slices."""
NEW = WEB.replace("web-tier", "new-tier")
"""A valid SLA placed first in hostile files: applying it would show."""


@attrs.frozen
class Manager:
    """A running ``monitoring sla-manager`` on a SQLite file."""

    address: str
    database: Path


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Manager]:
    folder = tmp_path_factory.mktemp("hostile")
    database = folder / "sla.db"
    port = free_port()
    with (
        server("PROMETHEUS_URL") as prometheus,
        running_sla_manager(
            {
                "MONITORING_DATABASE_URL": f"sqlite:///{database}",
                "MONITORING_PROMETHEUS_URL": prometheus,
                "MONITORING_GRPC_PORT": str(port),
                "MONITORING_SLA_TOKEN": TOKEN,
                "MONITORING_GRPC_TLS_CERT": "",
                "MONITORING_GRPC_TLS_KEY": "",
                "MONITORING_SLA_METRICS_PORT": "0",
            },
            folder / "sla-manager.log",
        ),
    ):
        running = Manager(address=f"127.0.0.1:{port}", database=database)
        path = folder / "web.yaml"
        path.write_text(WEB)
        result = sla(running, "apply", "-f", str(path))
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        yield running


def sla(manager: Manager, *args: str) -> "subprocess.CompletedProcess[str]":
    """``monitoring sla ARGS`` as a user runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_SLA")}
    env.update(MONITORING_SLA_ADDRESS=manager.address, MONITORING_SLA_TOKEN=TOKEN)
    return subprocess.run(
        [monitoring_command(), "sla", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stored(manager: Manager) -> list[tuple[object, ...]]:
    """Every row of the ``slas`` table, read with sqlite3 beside the server."""
    with sqlite3.connect(manager.database) as connection:
        return connection.execute("SELECT * FROM slas ORDER BY name").fetchall()


def listed(manager: Manager) -> list[str]:
    result = sla(manager, "-o", "json", "list")
    assert result.returncode == 0, result.stderr
    return [s["name"] for s in json.loads(result.stdout)]


def refused(manager: Manager, args: list[str], code: int) -> str:
    """The one stderr line of a refused command; the table must be unchanged."""
    before = stored(manager)
    assert before, "the baseline SLA is stored"
    result = sla(manager, *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert stored(manager) == before
    assert listed(manager) == ["web-tier"]
    return lines[0]


FileCase = tuple[str | bytes, int, Callable[[str], str]]
FILES: dict[str, FileCase] = {
    "unknown-document-key": (
        NEW + "---\n" + WEB + "descriptoin: web servers\n",
        2,
        lambda p: (
            f'monitoring sla: {p}: documents[1] (name "web-tier"): '
            'descriptoin: unknown key; did you mean "description"?'
        ),
    ),
    "unknown-objective-key": (
        NEW + "---\n" + WEB.replace("    slice: 5m", "    typo_slcie: 5m"),
        2,
        lambda p: (
            f'monitoring sla: {p}: documents[1] (name "web-tier"): '
            'objectives[1].typo_slcie: unknown key; did you mean "slice"?'
        ),
    ),
    "key-written-twice": (
        NEW + "---\n" + WEB + "    window: 3h\n",
        2,
        lambda p: (
            f"monitoring sla: {p} is not valid YAML in documents[1], "
            'line 24, column 5: key "window" is written twice'
        ),
    ),
    "not-utf8": (
        NEW.encode() + b"---\n" + WEB.encode().replace(b"web-tier", b"w\xe9b"),
        2,
        lambda p: (
            f"monitoring sla: {p} is not UTF-8 text: byte 0xe9 on line 13 "
            "cannot be decoded; save the file as UTF-8"
        ),
    ),
    "yaml-syntax": (
        NEW + "---\n" + WEB.replace("hi: 64\n    target", "hi: [64\n    target", 1),
        2,
        lambda p: (
            f"monitoring sla: {p} is not valid YAML in documents[1], "
            "line 17, column 11: expected ',' or ']', but got ':'"
        ),
    ),
    "not-a-mapping": (
        NEW + "---\n- name: web-tier\n",
        2,
        lambda p: (
            f"monitoring sla: {p}: documents[1]: expected a mapping with "
            "name and objectives, not a list"
        ),
    ),
    "same-name-twice": (
        NEW + "---\n" + WEB + "---\n" + WEB.replace("0.9", "0.95"),
        2,
        lambda p: (
            f"monitoring sla: {p}: documents[1] and documents[2] both "
            'define the SLA "web-tier"; define each SLA once per file'
        ),
    ),
    "allow-pending-text": (
        NEW + "---\n" + WEB + "    allow_pending: 'no'\n",
        2,
        lambda p: (
            f'monitoring sla: {p}: documents[1] (name "web-tier"): '
            "objectives[1].allow_pending must be true or false, not 'no'"
        ),
    ),
    "empty": ("# nothing yet\n", 2, lambda p: f"monitoring sla: {p} holds no SLA"),
    "refused-by-the-server": (
        NEW + "---\n" + WEB.replace("hi: 64", "lo: 70\n    hi: 64", 1),
        1,
        lambda p: (
            "monitoring sla apply: invalid_argument: objectives[0].lo: "
            f'lo (70) is above hi (64); in {p}, documents[1] (name "web-tier")'
        ),
    ),
}


@pytest.mark.parametrize("case", FILES)
def test_a_hostile_sla_file_is_one_line_and_stores_nothing(
    manager: Manager, tmp_path: Path, case: str
) -> None:
    content, code, message = FILES[case]
    path = tmp_path / "slas.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert refused(manager, ["apply", "-f", str(path)], code) == message(str(path))


FLAGS = {
    "window-below-the-slice": (
        ["violations", "web-tier", "--window", "1s"],
        "--window 1s: objectives[0] of web-tier is judged in 1m slices; give a "
        "whole number of every objective's slices (a multiple of 5m)",
    ),
    "window-not-whole-slices": (
        ["violations", "web-tier", "--window", "1h,7m"],
        "--window 7m: objectives[1] of web-tier is judged in 5m slices; give a "
        "whole number of every objective's slices (a multiple of 5m)",
    ),
    "window-not-a-duration": (
        ["violations", "web-tier", "--window", "1h,soon"],
        "--window soon: 'soon' is not a duration such as 90s, 10m or 1h",
    ),
    "window-empty": (
        ["violations", "web-tier", "--window", ","],
        "--window ',': give at least one window, e.g. 1h,3h",
    ),
    "horizon-negative": (
        ["predict", "web-tier", "--horizon", "-1m"],
        "--horizon -1m: horizon must be positive",
    ),
    "horizon-not-whole-slices": (
        ["predict", "web-tier", "--horizon", "3m"],
        "--horizon 3m: objectives[1] of web-tier is judged in 5m slices; give a "
        "whole number of every objective's slices (a multiple of 5m)",
    ),
    "lookback-negative": (
        ["score", "web-tier", "--lookback", "-1h"],
        "--lookback -1h: lookback must be positive",
    ),
    "lookback-zero": (
        ["score", "web-tier", "--lookback", "0s"],
        "--lookback 0s: '0s' must be a positive whole number of seconds",
    ),
    "expected-version-negative": (
        ["apply", "-f", "-", "--expected-version", "-1"],
        "--expected-version -1: must be 0 (new) or a stored version, "
        "at most 9223372036854775807",
    ),
    "expected-version-beyond-int64": (
        ["apply", "-f", "-", "--expected-version", str(2**63)],
        f"--expected-version {2**63}: must be 0 (new) or a stored version, "
        "at most 9223372036854775807",
    ),
    "address-without-port": (
        ["--address", "sla-manager", "list"],
        "--address 'sla-manager': must be host:port",
    ),
}


@pytest.mark.parametrize("case", FLAGS)
def test_a_hostile_flag_is_one_line_exit_2_and_stores_nothing(
    manager: Manager, case: str
) -> None:
    args, message = FLAGS[case]
    assert refused(manager, args, 2) == f"monitoring sla: {message}"


def test_windows_and_horizons_of_whole_slices_are_shown_as_asked(
    manager: Manager,
) -> None:
    result = sla(manager, "-o", "json", "violations", "web-tier", "--window", "5m,1h")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for objective in report["objectives"]:
        assert [w["window"] for w in objective["windows"]] == ["5m", "1h"]
    result = sla(manager, "-o", "json", "predict", "web-tier", "--horizon", "15m")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["horizon"] == "15m"
