"""Every construction point the golden-output harness uses, in one place.

The golden files (``tests/golden/``) pin the product's outputs byte for byte.
When a restructuring changes a constructor or moves a module, adapt THIS
module so that the same objects are built; never regenerate the golden files
to make a change pass (see ``tests/golden/README.md``).
"""

import contextlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import grpc
import sqlalchemy as sa
from falcon import testing

from adapters.grpc.generated import sla_manager_pb2 as pb
from adapters.grpc.generated import sla_manager_pb2_grpc as pb_grpc
from adapters.grpc.server import start_server
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.prediction_log import InMemoryPredictionLog
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from adapters.kafka.codec import encode, to_bytes
from adapters.kafka.decoding import MessageRejected, decode
from adapters.rest.api import create_app
from adapters.sql import migrate
from adapters.sql.engine import make_engine
from adapters.sql.prediction_log import SqlPredictionLog
from adapters.sql.result_store import SqlResultStore
from adapters.sql.sla_repository import SqlSlaRepository
from apps.cli import main as cli_main
from monitoring_core.ports import Result
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from monitoring_core.value_domains import ValueDomain
from tests.support.sla_services import sla_services

__all__ = [
    "Backend",
    "FixedClock",
    "InMemoryMetricSource",
    "ObjectiveDraft",
    "SlaDraft",
    "ValueDomain",
    "cli",
    "kafka_decoded",
    "kafka_message",
    "memory_backend",
    "pb",
    "rest_client",
    "served",
    "sqlite_backend",
    "table_rows",
]


def kafka_message(result: Result, computed_at: datetime) -> tuple[str, bytes]:
    """The Kafka key and value bytes the publisher sends for ``result``."""
    key, envelope = encode(result, computed_at)
    return key, to_bytes(envelope)


def kafka_decoded(payload: bytes) -> Result | str:
    """The result the storage service reads from a message, or why it refuses it."""
    try:
        return decode(payload)
    except MessageRejected as exc:
        return f"rejected: {exc}"


@attrs.define
class Backend:
    """A result store and an SLA manager over the same storage."""

    store: Any
    manager: Any
    engine: sa.Engine | None = None

    def write(self, results: Sequence[Result]) -> None:
        self.store.write(results)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def _manager(
    repository: Any,
    source: InMemoryMetricSource,
    store: Any,
    clock: FixedClock,
    predictions: Any,
) -> Any:
    return sla_services(
        repository=repository,
        source=source,
        samples=source,
        forecasts=store,
        clock=clock,
        predictions=predictions,
    )


def sqlite_backend(
    path: Path, source: InMemoryMetricSource, clock: FixedClock
) -> Backend:
    """Store, SLA repository and prediction log on a fresh, migrated SQLite file."""
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    store = SqlResultStore(engine)
    manager = _manager(
        SqlSlaRepository(engine, clock),
        source,
        store,
        clock,
        SqlPredictionLog(engine),
    )
    return Backend(store=store, manager=manager, engine=engine)


def memory_backend(source: InMemoryMetricSource, clock: FixedClock) -> Backend:
    """The same on the in-memory adapters."""
    store = InMemoryResultStore()
    manager = _manager(
        InMemorySlaRepository(clock), source, store, clock, InMemoryPredictionLog()
    )
    return Backend(store=store, manager=manager)


def rest_client(queries: Any, clock: FixedClock) -> testing.TestClient:
    """A Falcon test client of the REST API without a token."""
    return testing.TestClient(create_app(queries, clock, None))


@contextlib.contextmanager
def served(manager: Any, clock: FixedClock) -> Iterator[tuple[str, Any]]:
    """A real gRPC server on a free loopback port: its address and a stub."""
    server = start_server(manager.servicer(clock), "127.0.0.1:0")
    address = f"127.0.0.1:{server.port}"
    channel = grpc.insecure_channel(address)
    try:
        yield address, pb_grpc.SlaManagerStub(channel)
    finally:
        channel.close()
        server.stop(0)


def cli(
    argv: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[int, str, str]:
    """``monitoring <argv>`` in-process: exit code, stdout and stderr.

    Only ``env`` of the ``MONITORING_*`` variables is set meanwhile, and help
    text is wrapped at 100 columns whatever the terminal.
    """
    saved = {k: v for k, v in os.environ.items() if k.startswith("MONITORING_")}
    saved["COLUMNS"] = os.environ.get("COLUMNS", "")
    for name in saved:
        os.environ.pop(name, None)
    os.environ.update({"COLUMNS": "100", **(env or {})})
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_main(list(argv))
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for name in [*(env or {}), "COLUMNS"]:
            os.environ.pop(name, None)
        os.environ.update({k: v for k, v in saved.items() if v})
    return code, out.getvalue(), err.getvalue()


def table_rows(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database, ordered by primary key."""
    reflected = sa.MetaData()
    reflected.reflect(engine)
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in reflected.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            query = sa.select(table).order_by(*order)
            rows[table.name] = [tuple(r) for r in connection.execute(query)]
    return rows
