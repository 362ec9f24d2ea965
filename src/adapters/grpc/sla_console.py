"""The console's view of an SLA manager in another process, over its gRPC API."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import grpc

from adapters.grpc import console_convert
from adapters.grpc.client import SlaCallError, SlaClient
from monitoring_core.durations import format_duration
from monitoring_core.errors import SlaManagerUnavailable, SlaNotFound
from monitoring_core.services.sla_console import BurnDown, SlaConsoleSource, SlaRange
from monitoring_core.services.sla_state import StateSnapshot
from monitoring_core.sla import Sla

T = TypeVar("T")


@contextmanager
def _translated(address: str) -> Iterator[None]:
    """NOT_FOUND is the core's ``SlaNotFound`` (a 404 page); anything else is
    ``SlaManagerUnavailable`` naming the manager (a 503 page that retries)."""
    try:
        yield
    except SlaCallError as exc:
        if exc.code is grpc.StatusCode.NOT_FOUND:
            raise SlaNotFound(str(exc)) from None
        if address in str(exc):
            raise
        raise SlaManagerUnavailable(f"the SLA manager at {address}: {exc}") from None


class GrpcSlaConsole(SlaConsoleSource):
    """Asks the SLA manager, which answers with its ``SlaConsoleQueries``.

    Args:
        client: a client of the SLA manager; closed by its owner.
    """

    def __init__(self, client: SlaClient) -> None:
        self._client = client

    def _ask(self, call: Callable[[], T]) -> T:
        with _translated(self._client.address):
            return call()
        raise AssertionError("unreachable")  # pragma: no cover

    def snapshot(self) -> StateSnapshot:
        """The manager's last SLO state."""
        return console_convert.snapshot(self._ask(self._client.state_snapshot))

    def list_slas(self) -> Sequence[Sla]:
        """Every SLA, by name."""
        found = self._ask(self._client.list_slas)
        return [console_convert.sla_from_message(m) for m in found]

    def sla_range(self, name: str, range_seconds: int, max_series: int) -> SlaRange:
        """One SLA over the range, judged by the manager."""
        found = self._ask(
            lambda: self._client.sla_range(
                name, format_duration(range_seconds), max_series
            )
        )
        return console_convert.sla_range(found)

    def burn_down(
        self, name: str, index: int, range_seconds: int, points: int, max_series: int
    ) -> BurnDown:
        """One objective's burn-down, judged by the manager."""
        found = self._ask(
            lambda: self._client.burn_down(
                name, index, format_duration(range_seconds), points, max_series
            )
        )
        return console_convert.burn_down(found)
