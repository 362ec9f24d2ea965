"""The console of ``monitoring api``: SLA pages read over the SLA manager's gRPC API.

The REST app is wired as ``monitoring api`` wires it when MONITORING_SLA_ADDRESS
is set (``GrpcSlaConsole`` over a real gRPC channel) against an in-process SLA
manager serving ``ConsoleWorld``; in a real browser its pages must be clean,
navigable by clicking, draw every chart, and embed the same data as the
in-process console of ``monitoring run`` (ADR 0056).
"""

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.grpc.client import SlaClient
from adapters.grpc.server import start_server
from adapters.grpc.sla_console import GrpcSlaConsole
from adapters.rest.api import create_app
from tests.browser.conftest import serve
from tests.browser.test_console_pages import CHARTS_DRAWN, Watched, _data
from tests.support.console_world import ConsoleWorld

CHARTS_FILLED = """() => [...document.querySelectorAll('[data-chart]')]
    .every(e => Number(e.dataset.points) > 0)"""


@pytest.fixture(scope="module")
def consoles() -> Iterator[tuple[str, str]]:
    """The console over gRPC and the in-process one, over the same world."""
    world = ConsoleWorld()
    assert world.use_cases is not None
    manager = start_server(
        world.services.servicer(world.clock, world.state), "127.0.0.1:0", workers=2
    )
    client = SlaClient(f"127.0.0.1:{manager.port}", timeout_seconds=10)
    remote = GrpcSlaConsole(client)
    over_grpc, stop_remote = serve(
        create_app(world.store, world.clock, None, sla=remote)
    )
    in_process, stop_local = serve(
        create_app(world.store, world.clock, None, sla=world.use_cases)
    )
    yield over_grpc, in_process
    stop_remote()
    stop_local()
    client.close()
    manager.stop(grace_seconds=0)


def test_the_api_console_over_grpc_draws_the_same_sla_pages(
    browser: Any, consoles: tuple[str, str]
) -> None:
    over_grpc, in_process = consoles
    remote = Watched(browser.new_context())
    local = Watched(browser.new_context())
    page = remote.open(f"{over_grpc}/ui")
    assert _data(page) == _data(local.open(f"{in_process}/ui"))
    page.get_by_role("link", name="temps", exact=True).click()
    page.wait_for_url("**/ui/sla/temps")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.evaluate(CHARTS_FILLED)
    detail = _data(page)
    assert detail["objectives"][0]["charts"], "series charted"
    assert detail == _data(local.open(f"{in_process}/ui/sla/temps"))
    path = "/ui/sla/temps/budget?objective=0&range=3h"
    burn = remote.open(over_grpc + path)
    assert burn.evaluate(CHARTS_FILLED)
    assert _data(burn) == _data(local.open(in_process + path))
    assert remote.problems == [] and local.problems == []
