"""MONITORING_ETL_STATE_PATH: a private file under the XDG state folder by
default, anywhere when set, nowhere ("none")."""

from pathlib import Path

import pytest

from apps.env import ConfigError
from apps.etl.config import load_etl_config


def test_the_default_is_in_the_users_state_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = load_etl_config({}).state_path
    assert path == tmp_path / ".local" / "state" / "monitoring" / "etl.sqlite"


def test_xdg_state_home_moves_the_default_but_not_a_setting(tmp_path: Path) -> None:
    xdg = {"XDG_STATE_HOME": str(tmp_path / "xdg")}
    assert load_etl_config(xdg).state_path == tmp_path / "xdg/monitoring/etl.sqlite"
    chosen = str(tmp_path / "mine.db")
    set_both = {**xdg, "MONITORING_ETL_STATE_PATH": chosen}
    assert load_etl_config(set_both).state_path == Path(chosen)
    relative = {"XDG_STATE_HOME": "relative/path"}  # ignored, as the spec says
    assert load_etl_config(relative).state_path != Path("relative/path")


def test_none_keeps_the_state_in_memory() -> None:
    assert load_etl_config({"MONITORING_ETL_STATE_PATH": "none"}).state_path is None


def test_a_relative_path_is_made_absolute() -> None:
    path = load_etl_config({"MONITORING_ETL_STATE_PATH": "etl.sqlite"}).state_path
    assert path is not None and path.is_absolute() and path.name == "etl.sqlite"


def test_a_blank_path_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="MONITORING_ETL_STATE_PATH"):
        load_etl_config({"MONITORING_ETL_STATE_PATH": "  "})
