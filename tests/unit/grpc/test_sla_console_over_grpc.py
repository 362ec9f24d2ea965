"""The console's SLA reads over gRPC (``GrpcSlaConsole``) equal the in-process ones.

An in-process gRPC server serves ``ConsoleWorld``'s SLA manager; the client
adapter must answer exactly what ``SlaConsoleQueries`` answers in process, the
pages rendered over it must embed the same numbers, and a manager that goes
away must give a readable 503 page that recovers once it is back (ADR 0056).
"""

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from falcon import testing

from adapters.grpc.client import SlaCallError, SlaClient
from adapters.grpc.server import SlaServer, start_server
from adapters.grpc.sla_console import GrpcSlaConsole
from adapters.rest.api import create_app
from monitoring_core.errors import SlaManagerUnavailable, SlaNotFound
from monitoring_core.services.sla_console import SlaConsoleQueries
from tests.support.console_world import ConsoleWorld
from tests.support.sla_state_world import A

DAY = 86400


@pytest.fixture(scope="module")
def world() -> ConsoleWorld:
    return ConsoleWorld()


@pytest.fixture(scope="module")
def local(world: ConsoleWorld) -> SlaConsoleQueries:
    assert world.use_cases is not None
    return world.use_cases


def _serve(world: ConsoleWorld, port: int = 0) -> SlaServer:
    servicer = world.services.servicer(world.clock, world.state)
    return start_server(servicer, f"127.0.0.1:{port}", workers=2)


@pytest.fixture(scope="module")
def server(world: ConsoleWorld) -> Iterator[SlaServer]:
    started = _serve(world)
    yield started
    started.stop(grace_seconds=0)


@pytest.fixture(scope="module")
def client(server: SlaServer) -> Iterator[SlaClient]:
    with SlaClient(f"127.0.0.1:{server.port}", timeout_seconds=10) as opened:
        yield opened


@pytest.fixture(scope="module")
def remote(client: SlaClient) -> GrpcSlaConsole:
    return GrpcSlaConsole(client)


def test_the_snapshot_over_grpc_equals_the_managers(
    remote: GrpcSlaConsole, local: SlaConsoleQueries
) -> None:
    snapshot = remote.snapshot()
    assert snapshot.slas, "the world's state was refreshed: it holds an SLA"
    assert snapshot.slas[0].objectives[0].series, "per-series figures too"
    assert snapshot == local.snapshot()


def test_the_slas_over_grpc_equal_the_stored_ones(
    remote: GrpcSlaConsole, local: SlaConsoleQueries
) -> None:
    assert list(remote.list_slas()) == list(local.list_slas())


@pytest.mark.parametrize("range_seconds", [3600, 12 * 3600])
def test_an_sla_over_a_range_equals_the_in_process_answer(
    remote: GrpcSlaConsole, local: SlaConsoleQueries, range_seconds: int
) -> None:
    found = remote.sla_range("temps", range_seconds, 5)
    [objective] = found.objectives
    assert objective.series_count == 2 and len(objective.series) == 2
    assert any(s.episodes for s in objective.series), "the world has bad slices"
    assert found == local.sla_range("temps", range_seconds, 5)


def test_the_series_listed_are_capped_but_all_counted(
    remote: GrpcSlaConsole,
) -> None:
    [objective] = remote.sla_range("temps", 3600, 1).objectives
    assert objective.series_count == 2
    assert [s.series for s in objective.series] == [A]


def test_a_burn_down_equals_the_in_process_answer(
    remote: GrpcSlaConsole, local: SlaConsoleQueries
) -> None:
    found = remote.burn_down("temps", 0, 12 * 3600, 48, 5)
    assert [len(s.past.ends) for s in found.series] == [49, 49]  # both ends
    predicted = {s.series: s.predicted for s in found.series}
    assert predicted[A] is not None, "series a has a forecast: a continuation"
    assert found == local.burn_down("temps", 0, 12 * 3600, 48, 5)


@pytest.mark.parametrize(
    "ask",
    [
        lambda r: r.sla_range("nope", 3600, 5),
        lambda r: r.burn_down("nope", 0, 3600, 48, 5),
        lambda r: r.burn_down("temps", 1, 3600, 48, 5),
    ],
    ids=["range-of-unknown-sla", "burn-of-unknown-sla", "burn-of-unknown-objective"],
)
def test_an_unknown_sla_or_objective_is_not_found(
    remote: GrpcSlaConsole, ask: Any
) -> None:
    with pytest.raises(SlaNotFound):
        ask(remote)


@pytest.mark.parametrize(
    ("ask", "field"),
    [
        (lambda c: c.sla_range("temps", "36d", 5), "range"),
        (lambda c: c.sla_range("temps", "", 5), "range"),
        (lambda c: c.sla_range("temps", "1h", 101), "max_series"),
        (lambda c: c.burn_down("temps", 0, "1h", 0, 5), "points"),
        (lambda c: c.burn_down("temps", 0, "1h", 1001, 5), "points"),
        (lambda c: c.burn_down("temps", 0, "1x", 48, 5), "range"),
    ],
    ids=[
        "range-too-long",
        "no-range",
        "too-many-series",
        "no-points",
        "too-many-points",
        "bad-range",
    ],
)
def test_the_server_refuses_out_of_bounds_console_requests(
    client: SlaClient, ask: Any, field: str
) -> None:
    with pytest.raises(SlaCallError) as caught:
        ask(client)
    assert caught.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert list(caught.value.fields) == [field]


def _page_data(text: str) -> Any:
    found = re.search(
        r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S
    )
    assert found is not None
    return json.loads(found.group(1))


@pytest.mark.parametrize(
    "path", ["/ui", "/ui/sla/temps?range=12h", "/ui/sla/temps/budget?objective=0"]
)
def test_pages_over_grpc_embed_the_same_numbers_as_in_process(
    world: ConsoleWorld, remote: GrpcSlaConsole, local: SlaConsoleQueries, path: str
) -> None:
    over_grpc = testing.TestClient(
        create_app(world.store, world.clock, None, sla=remote)
    )
    in_process = testing.TestClient(
        create_app(world.store, world.clock, None, sla=local)
    )
    page = over_grpc.simulate_get(path)
    assert page.status_code == 200
    data = _page_data(page.text)
    assert data == _page_data(in_process.simulate_get(path).text)
    assert "temps" in json.dumps(data)


def _recovers(app: testing.TestClient, path: str, within: float) -> bool:
    """Whether ``path`` answers 200 within ``within`` seconds (reconnecting)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if app.simulate_get(path).status_code == 200:
            return True
        time.sleep(0.1)
    return False


def test_a_manager_that_goes_away_gives_a_503_page_until_it_is_back(
    world: ConsoleWorld,
) -> None:
    started = _serve(world)
    port = started.port
    client = SlaClient(f"127.0.0.1:{port}", timeout_seconds=5, reconnect_seconds=0.2)
    app = testing.TestClient(
        create_app(world.store, world.clock, None, sla=GrpcSlaConsole(client))
    )
    try:
        assert app.simulate_get("/ui/sla/temps").status_code == 200
        started.stop(grace_seconds=0)
        for path in ("/ui", "/ui/sla/temps", "/ui/sla/temps/budget"):
            page = app.simulate_get(path)
            assert page.status_code == 503, path
            assert "Temporarily unavailable" in page.text
            assert "SLA manager at 127.0.0.1" in page.text
            assert "Traceback" not in page.text
        with pytest.raises(SlaManagerUnavailable):
            GrpcSlaConsole(client).snapshot()
        started = _serve(world, port)
        assert _recovers(app, "/ui/sla/temps", within=5.0)
        assert app.simulate_get("/ui").status_code == 200
    finally:
        started.stop(grace_seconds=0)
        client.close()
