"""The EtlStateStore contract on the in-memory fake and the SQLite file, and
what only the file does: survive a SIGKILL mid-write, refuse clearly what it
cannot use, stay private to its owner."""

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.in_memory.etl_state import InMemoryEtlState
from adapters.sql import etl_state
from adapters.sql.etl_state import SqliteEtlState, open_etl_state
from monitoring_core.errors import StoreUnavailable
from tests.contracts.etl_state_contract import EtlStateContract, pending

ROOT = Path(__file__).resolve().parents[3]


class TestInMemoryEtlState(EtlStateContract):
    @pytest.fixture
    def state(self) -> InMemoryEtlState:
        return InMemoryEtlState()

    @pytest.fixture
    def broken(self) -> InMemoryEtlState:
        state = InMemoryEtlState()
        state.available = False
        return state


class TestSqliteEtlState(EtlStateContract):
    @pytest.fixture
    def state(self, tmp_path: Path) -> Iterator[SqliteEtlState]:
        store = open_etl_state(tmp_path / "state" / "etl.sqlite")
        yield store
        store.close()

    @pytest.fixture
    def broken(self, tmp_path: Path) -> Iterator[SqliteEtlState]:
        store = open_etl_state(tmp_path / "etl.sqlite")
        with sqlite3.connect(tmp_path / "etl.sqlite") as db:
            db.execute("DROP TABLE pending_forecasts")
            db.execute("DROP TABLE etl_state")
        yield store
        store.close()


def test_the_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "etl.sqlite"
    first = open_etl_state(path)
    first.update_forecasts([pending("a"), pending("b")], [])
    first.close()
    again = open_etl_state(path)
    assert {f.series.id for f in again.pending_forecasts()} == {
        pending("a").series.id,
        pending("b").series.id,
    }
    again.close()


def test_the_file_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "etl.sqlite"
    open_etl_state(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


def test_an_unwritable_folder_is_refused_with_the_setting_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:  # root may write anywhere: answer as for any other user
        monkeypatch.setattr(etl_state.os, "access", lambda p, mode: Path(p) != locked)
    with pytest.raises(StoreUnavailable, match=r"not writable.*MONITORING_ETL_STATE"):
        open_etl_state(locked / "etl.sqlite")


def test_a_folder_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="folder cannot be created"):
        open_etl_state(tmp_path / "file" / "etl.sqlite")


def test_a_file_that_is_not_a_database_is_refused_with_how_to_reset(
    tmp_path: Path,
) -> None:
    path = tmp_path / "etl.sqlite"
    path.write_bytes(b"this is not SQLite at all, " * 100)
    with pytest.raises(StoreUnavailable, match=r"not a database.*delete the file"):
        open_etl_state(path)


def test_a_file_of_a_newer_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "etl.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(StoreUnavailable, match="newer version"):
        open_etl_state(path)


WRITER = textwrap.dedent(
    """
    import sys
    import attrs
    from pathlib import Path
    from adapters.sql.etl_state import open_etl_state
    from tests.contracts.etl_state_contract import pending

    store = open_etl_state(Path(sys.argv[1]))
    batch = [pending(f"h{i}") for i in range(2000)]
    generation = 0
    while True:
        generation += 1
        store.replace_forecasts(
            [attrs.evolve(f, model=f"g{generation}") for f in batch]
        )
        print(generation, flush=True)
    """
)


def test_a_sigkill_during_writes_leaves_one_whole_write(tmp_path: Path) -> None:
    path = tmp_path / "etl.sqlite"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    try:
        for _ in range(3):  # a few whole writes, then kill during the next
            assert writer.stdout.readline().strip(), "the writer ended early"
        time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    store = open_etl_state(path)
    kept = store.pending_forecasts()
    store.close()
    assert len(kept) == 2000
    assert len({f.model for f in kept}) == 1  # one generation, never a mix
    assert int(kept[0].model[1:]) >= 3


def test_a_damaged_row_is_skipped_and_the_rest_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "etl.sqlite"
    store = open_etl_state(path)
    store.update_forecasts([pending("a"), pending("b")], [])
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE pending_forecasts SET points = x'0102' WHERE series_id = ?",
            (pending("a").series.id,),
        )
    assert store.pending_forecasts() == [pending("b")]
    assert "damaged pending forecast of node_load1" in caplog.text
    store.close()
