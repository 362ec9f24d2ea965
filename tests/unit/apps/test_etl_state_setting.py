"""MONITORING_ETL_STATE_PATH: a private file under the XDG state folder by
default, anywhere when set, nowhere ("none")."""

from pathlib import Path

import pytest

from adapters.sql.etl_state import SqliteEtlState
from apps.env import ConfigError
from apps.etl.config import load_etl_config
from apps.etl.containers import EtlContainer


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


def test_the_container_opens_the_file_and_hands_it_to_the_cycle(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state" / "etl.sqlite"
    config = load_etl_config({"MONITORING_ETL_STATE_PATH": str(path)})
    container = EtlContainer(config=config)
    store = container.state()
    assert isinstance(store, SqliteEtlState) and store.path == path
    assert path.is_file()
    container.shutdown_resources()


def test_none_gives_the_cycle_no_store() -> None:
    config = load_etl_config({"MONITORING_ETL_STATE_PATH": "none"})
    container = EtlContainer(config=config)
    assert container.state() is None
    container.shutdown_resources()
