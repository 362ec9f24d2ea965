"""SLA definitions in MariaDB/MySQL or SQLite, with optimistic versioning."""

import json
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from adapters.sql.engine import make_engine, translated
from adapters.sql.tables import slas
from adapters.sql.values import from_ms, to_ms
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.errors import VersionConflict
from monitoring_core.ports import Clock, SlaRepository
from monitoring_core.selectors import parse_selector
from monitoring_core.sla import Objective, Sla, deletable, next_version
from monitoring_core.slo import AllowedRange


def definition_json(sla: Sla) -> str:
    """The stored JSON of an SLA's definition (name and version are columns).

    ``alerting`` is written only when it differs from the defaults, so rows
    written before it existed and rows without settings of their own read the
    same: the defaults (ADR 0049).
    """
    body: dict[str, Any] = {
        "description": sla.description,
        "objectives": [
            {
                "selector": o.selector.to_promql(),
                "lo": o.allowed.lo,
                "hi": o.allowed.hi,
                "target": o.target,
                "window_seconds": o.window_seconds,
                "slice_seconds": o.slice_seconds,
                "allow_pending": o.allow_pending,
            }
            for o in sla.objectives
        ],
    }
    if sla.alerting != AlertingPolicy():
        body["alerting"] = attrs.asdict(sla.alerting)
    return json.dumps(body, sort_keys=True)


def _alerting(item: dict[str, Any] | None) -> AlertingPolicy:
    return AlertingPolicy() if item is None else AlertingPolicy(**item)


def _objective(item: dict[str, Any]) -> Objective:
    return Objective(
        selector=parse_selector(item["selector"]),
        allowed=AllowedRange(lo=item["lo"], hi=item["hi"]),
        target=item["target"],
        window_seconds=item["window_seconds"],
        slice_seconds=item["slice_seconds"],
        allow_pending=item["allow_pending"],
    )


def _sla(row: Row[Any]) -> Sla:
    body = json.loads(row.definition)
    return Sla(
        name=row.name,
        objectives=tuple(_objective(o) for o in body["objectives"]),
        description=body["description"],
        alerting=_alerting(body.get("alerting")),
        version=row.version,
        updated_at=from_ms(row.updated_at),
    )


class SqlSlaRepository(SlaRepository):
    """One row per SLA; every change is one transaction guarded by the version.

    The row is read ``FOR UPDATE`` (MySQL; SQLite serialises writers anyway) and
    the update repeats the version in its ``WHERE``, so two writers that read
    the same version cannot both win.
    """

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def get(self, name: str) -> Sla | None:
        """See ``SlaRepository``."""
        with translated("reading an SLA"), self._engine.connect() as connection:
            row = connection.execute(sa.select(slas).where(slas.c.name == name)).first()
        return None if row is None else _sla(row)

    def all(self) -> list[Sla]:
        """See ``SlaRepository``."""
        with translated("reading SLAs"), self._engine.connect() as connection:
            rows = connection.execute(sa.select(slas).order_by(slas.c.name)).all()
        return [_sla(r) for r in rows]

    def _locked(self, connection: Connection, name: str) -> Sla | None:
        query = sa.select(slas).where(slas.c.name == name).with_for_update()
        row = connection.execute(query).first()
        return None if row is None else _sla(row)

    def put(self, sla: Sla, expected_version: int | None) -> tuple[Sla, bool]:
        """See ``SlaRepository``."""
        with (
            translated(f"storing SLA {sla.name!r}"),
            self._engine.begin() as connection,
        ):
            stored = self._locked(connection, sla.name)
            new, changed = next_version(stored, sla, expected_version, self._now())
            if not changed:
                return new, False
            values = {
                "version": new.version,
                "definition": definition_json(new),
                "updated_at": to_ms(_when(new)),
            }
            if stored is None:
                try:
                    connection.execute(sa.insert(slas).values(name=sla.name, **values))
                except sa.exc.IntegrityError as exc:
                    raise VersionConflict(
                        f"SLA {sla.name!r} was created meanwhile; get it and retry"
                    ) from exc
            else:
                updated = connection.execute(
                    sa.update(slas)
                    .where(slas.c.name == sla.name, slas.c.version == stored.version)
                    .values(**values)
                )
                if updated.rowcount != 1:
                    raise VersionConflict(f"SLA {sla.name!r} changed meanwhile")
            return new, True

    def delete(self, name: str, expected_version: int | None) -> None:
        """See ``SlaRepository``."""
        with translated(f"deleting SLA {name!r}"), self._engine.begin() as connection:
            stored = deletable(self._locked(connection, name), name, expected_version)
            connection.execute(
                sa.delete(slas).where(
                    slas.c.name == name, slas.c.version == stored.version
                )
            )

    def _now(self) -> datetime:
        return from_ms(to_ms(self._clock.now()))


def _when(sla: Sla) -> datetime:
    assert sla.updated_at is not None, "next_version sets the time of a change"
    return sla.updated_at


def sql_sla_repository(url: str, clock: Clock) -> SqlSlaRepository:
    """A repository on its own engine for ``url`` (migrated beforehand)."""
    return SqlSlaRepository(make_engine(url), clock)
