"""The README's configuration tables match the settings the code reads.

The loaders are run on a recording environment, so the names and defaults come
from the code itself, not from a list kept beside it.
"""

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

from apps.api.config import load_api_config
from apps.env import Env
from apps.etl.config import load_etl_config
from apps.sla.client_settings import DEFAULT_ADDRESS, read_sla_client_settings
from apps.sla.config import load_sla_manager_config
from apps.storage.config import load_storage_config

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(MONITORING_[A-Z0-9_]+)` \| ([^|]+) \|", re.MULTILINE)
FREE_TEXT = {
    "unset",
    "the series selectors",
    "the topic + `.dead-letter`",
    "the topic + `.etl-workers`",
    "the topic + `.etl-shards`",
}
"""Defaults the README describes in words; the code's default is empty or derived."""
DERIVED = {
    "MONITORING_DEAD_LETTER_TOPIC",
    "MONITORING_FORECAST_SELECTORS",
    "MONITORING_ETL_GROUP",
    "MONITORING_ETL_SHARD_TOPIC",
}


class Recorder(Mapping[str, str]):
    """An empty environment that remembers every ``get(name, default)``."""

    def __init__(self) -> None:
        self.defaults: dict[str, set[str]] = defaultdict(set)

    def get(self, key: str, default: object = None) -> str:  # type: ignore[override]
        self.defaults[key].add("" if default is None else str(default))
        return "" if default is None else str(default)

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def code_defaults() -> dict[str, set[str]]:
    recorder = Recorder()
    for load in (
        load_etl_config,
        load_storage_config,
        load_api_config,
        load_sla_manager_config,
    ):
        load(recorder)
    read_sla_client_settings(Env(recorder), DEFAULT_ADDRESS)
    recorder.defaults["MONITORING_LOG_LEVEL"].add("INFO")  # read by apps/cli.py
    return recorder.defaults


def readme_rows() -> dict[str, set[str]]:
    rows: dict[str, set[str]] = defaultdict(set)
    for name, default in ROW.findall((ROOT / "README.md").read_text()):
        rows[name].add(default.strip())
    return rows


def source_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src" / "apps").rglob("*.py"):
        names |= set(re.findall(r'"(MONITORING_[A-Z0-9_]+)"', path.read_text()))
    return names


def test_every_setting_in_the_code_has_a_row_and_every_row_a_setting() -> None:
    in_code = set(code_defaults()) | source_names()
    in_readme = set(readme_rows())
    assert sorted(in_code - in_readme) == [], "settings missing from the README"
    assert sorted(in_readme - in_code) == [], "README rows for unknown settings"


def test_every_default_in_the_readme_is_the_codes() -> None:
    defaults = code_defaults()
    wrong = []
    for name, cells in readme_rows().items():
        for cell in cells:
            if cell in FREE_TEXT:
                ok = "" in defaults[name] or name in DERIVED
            else:
                ok = cell.startswith("`") and cell.strip("`") in defaults[name]
            if not ok:
                wrong.append(f"{name}: README says {cell}, code {defaults[name]}")
    assert wrong == []


def test_the_recorder_sees_real_defaults() -> None:
    """Guards the test itself: a loader that stops reading would pass vacuously."""
    defaults = code_defaults()
    assert defaults["MONITORING_API_PORT"] == {"8080"}
    assert defaults["MONITORING_WINDOWS"] == {"1h,3h,12h"}
    assert len(defaults) >= 40
