"""A durable trace of the cycles that started and have not finished (ADR 0053).

A cycle writes a small marker file when it starts and removes it when it ends.
A marker still there when the ETL starts belongs to a cycle whose process was
killed (kill -9, out of memory, power loss): the ETL publishes an ``etl_run``
with status ``aborted`` for it, so the gap shows in the run history instead of
being silent. Writes are atomic (a temporary file, fsync, rename, fsync of the
directory): a kill at any moment leaves either no marker or a whole one.
"""

import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import attrs

log = logging.getLogger(__name__)
SUFFIX = ".cycle.json"


@attrs.frozen(kw_only=True)
class Started:
    """A cycle's marker: which cycle, of which loop, when, in which process."""

    run_id: str
    loop: str
    started_at: datetime
    pid: int
    path: Path

    def reason(self) -> str:
        """Why its record says aborted."""
        return (
            f"the ETL process (pid {self.pid}) ended during this {self.loop} cycle; "
            "found when the ETL started again"
        )


class CycleMarkers:
    """Marker files of started cycles, one per cycle, in ``directory``.

    Raises:
        OSError: the directory cannot be created (at construction).
    """

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    @property
    def directory(self) -> Path:
        """Where the markers are."""
        return self._dir

    def start(self, loop: str, started_at: datetime) -> Started:
        """Write the marker of a cycle starting now."""
        run_id = uuid.uuid4().hex
        path = self._dir / f"{run_id}{SUFFIX}"
        marker = Started(
            run_id=run_id,
            loop=loop,
            started_at=started_at,
            pid=os.getpid(),
            path=path,
        )
        body = {
            "run_id": run_id,
            "loop": loop,
            "started_at": started_at.isoformat(),
            "pid": marker.pid,
        }
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(body, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._sync_directory()
        return marker

    def finish(self, marker: Started) -> None:
        """Remove the marker of a cycle that ended (or was recorded)."""
        marker.path.unlink(missing_ok=True)
        self._sync_directory()

    def leftovers(self) -> list[Started]:
        """Markers of cycles that started and never finished, oldest first.

        A marker that cannot be read (a disk error) is reported with the time
        of its file; a temporary file of an unfinished write is removed.
        """
        found: list[Started] = []
        for tmp in self._dir.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        for path in self._dir.glob(f"*{SUFFIX}"):
            found.append(self._read(path))
        return sorted(found, key=lambda m: m.started_at)

    def _read(self, path: Path) -> Started:
        run_id = path.name.removesuffix(SUFFIX)
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            return Started(
                run_id=str(body["run_id"]),
                loop=str(body["loop"]),
                started_at=datetime.fromisoformat(body["started_at"]),
                pid=int(body["pid"]),
                path=path,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "cycle marker %s unreadable (%s); using its file time", path, exc
            )
            try:
                mtime = path.stat().st_mtime
            except OSError:
                mtime = 0.0
            return Started(
                run_id=run_id,
                loop="unknown",
                started_at=datetime.fromtimestamp(mtime, UTC),
                pid=0,
                path=path,
            )

    def _sync_directory(self) -> None:
        fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def markers_beside(state_path: Path) -> CycleMarkers:
    """The markers of the ETL whose state file is ``state_path``: a directory
    next to it (``etl.sqlite`` -> ``etl.cycles/``)."""
    return CycleMarkers(state_path.with_name(f"{state_path.stem}.cycles"))
