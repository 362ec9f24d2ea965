"""The web console's pages without a browser: sign-in, errors, filters, escaping.

The browser suite (tests/browser) checks rendering, charts and accessibility;
these check what the server answers, in milliseconds.
"""

import json
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from falcon import testing

from apps.run.config import load_run_config
from apps.run.containers import AllInOneContainer
from monitoring_core.series import SeriesKey
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from tests.support.console_world import AT, ConsoleWorld, window_stats
from tests.support.sla_state_world import A, B, draft

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def world() -> ConsoleWorld:
    return ConsoleWorld()


@pytest.fixture
def client(world: ConsoleWorld) -> testing.TestClient:
    return testing.TestClient(world.app())


@pytest.fixture
def locked(world: ConsoleWorld) -> testing.TestClient:
    return testing.TestClient(world.app(token=TOKEN))


@pytest.mark.parametrize(
    "path",
    [
        "/ui",
        "/ui/sla/temps",
        "/ui/sla/temps/budget",
        "/ui/series",
        f"/ui/series/{A.id}",
        "/ui/etl",
        "/docs",
    ],
)
def test_every_page_is_html_with_a_content_security_policy(
    client: testing.TestClient, path: str
) -> None:
    result = client.simulate_get(path)
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in result.headers["content-security-policy"]
    assert "http://" not in result.text and "https://" not in result.text


def test_the_overview_lists_the_sla_with_its_snapshot_figures(
    client: testing.TestClient, world: ConsoleWorld
) -> None:
    page = client.simulate_get("/ui").text
    [objective] = world.state.snapshot.slas[0].objectives
    budget = objective.windows[-1].budget_remaining
    assert budget is not None
    assert re.search(rf"<td data-budget>{budget:.2%}</td>", page)
    assert 'href="/ui/sla/temps"' in page and "status-violating" in page


@pytest.mark.parametrize(("query", "listed"), [("temps", 1), ("host", 0), ("te", 1)])
def test_the_overview_filters_by_name_and_selector(
    client: testing.TestClient, query: str, listed: int
) -> None:
    page = client.simulate_get("/ui", params={"q": query}).text
    assert page.count("<tr data-sla=") == listed


def test_an_unknown_range_falls_back_to_12h_and_says_so(
    client: testing.TestClient,
) -> None:
    page = client.simulate_get("/ui/sla/temps", params={"range": "5y"}).text
    assert "unknown range &#39;5y&#39;: showing 12h" in page
    assert "charts over the last 12h" in page


def test_the_range_picker_keeps_the_page_and_marks_the_choice(
    client: testing.TestClient,
) -> None:
    page = client.simulate_get(f"/ui/series/{A.id}", params={"range": "3h"}).text
    assert f'<a href="/ui/series/{A.id}?range=3h" aria-current="page">3h</a>' in page
    assert f'href="/ui/series/{A.id}?range=7d"' in page


def test_unknown_sla_and_series_are_404_pages(client: testing.TestClient) -> None:
    for path in (
        "/ui/sla/nope",
        "/ui/sla/nope/budget",
        "/ui/sla/temps/budget?objective=1",
        "/ui/sla/temps/budget?objective=-1",
        "/ui/series/0123456789abcdef",
        "/ui/series/x",
    ):
        result = client.simulate_get(path)
        assert result.status_code == 404, path
        assert result.headers["content-type"].startswith("text/html")


def test_a_bad_selector_is_explained_on_the_page(client: testing.TestClient) -> None:
    result = client.simulate_get("/ui/series", params={"match": "{job="})
    assert result.status_code == 200
    assert "is not a PromQL series selector" in result.text


def test_labels_are_escaped(world: ConsoleWorld, client: testing.TestClient) -> None:
    key = SeriesKey.of("evil", {"job": "<script>alert(1)</script>"})
    world.store.write([attrs.evolve(window_stats(AT, 1.0), series=key)])
    page = client.simulate_get("/ui/series", params={"match": "evil"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_a_store_outage_is_a_503_page_not_a_traceback(
    world: ConsoleWorld, client: testing.TestClient
) -> None:
    world.store.available = False
    try:
        result = client.simulate_get(f"/ui/series/{A.id}")
    finally:
        world.store.available = True
    assert result.status_code == 503
    assert result.headers["retry-after"] == "5"
    assert "A dependency did not answer" in result.text


def test_without_an_sla_manager_the_sla_pages_say_how_to_set_one() -> None:
    world = ConsoleWorld()
    world.use_cases = None
    client = testing.TestClient(world.app())
    assert "set MONITORING_SLA_ADDRESS" in client.simulate_get("/ui").text
    for path in ("/ui/sla/temps", "/ui/sla/temps/budget"):
        detail = client.simulate_get(path)
        assert detail.status_code == 404
        assert "set MONITORING_SLA_ADDRESS" in detail.text
    assert client.simulate_get("/ui/etl").status_code == 200


def test_with_a_token_a_page_sends_the_browser_to_the_login_form(
    locked: testing.TestClient,
) -> None:
    result = locked.simulate_get("/ui/sla/temps", params={"range": "1h"})
    assert result.status_code == 303
    assert result.headers["location"].endswith(
        "/ui/login?next=%2Fui%2Fsla%2Ftemps%3Frange%3D1h"
    )
    assert locked.simulate_get("/ui/login").status_code == 200
    assert locked.simulate_get("/ui/static/console.js").status_code == 200


def test_the_bearer_header_opens_the_console_as_it_opens_the_api(
    locked: testing.TestClient,
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert locked.simulate_get("/ui", headers=headers).status_code == 200
    wrong = {"Authorization": "Bearer nope"}
    assert locked.simulate_get("/ui", headers=wrong).status_code == 303


def test_signing_in_sets_an_httponly_cookie_for_the_console_only(
    locked: testing.TestClient,
) -> None:
    bad = locked.simulate_post(
        "/ui/login",
        body="token=nope&next=/ui/etl",
        content_type="application/x-www-form-urlencoded",
    )
    assert bad.status_code == 401 and "That is not the API token." in bad.text
    assert "set-cookie" not in bad.headers
    good = locked.simulate_post(
        "/ui/login",
        body=f"token={TOKEN}&next=/ui/etl",
        content_type="application/x-www-form-urlencoded",
    )
    assert good.status_code == 303 and good.headers["location"].endswith("/ui/etl")
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/ui" in cookie
    assert TOKEN not in cookie
    value = good.cookies["monitoring_console"].value
    jar = {"Cookie": f"monitoring_console={value}"}
    assert locked.simulate_get("/ui/etl", headers=jar).status_code == 200
    assert locked.simulate_get("/v1/etl/runs", headers=jar).status_code == 401
    out = locked.simulate_post("/ui/logout", headers=jar)
    assert out.status_code == 303
    assert out.headers["set-cookie"].startswith('monitoring_console="";')


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/v1/x"])
def test_sign_in_never_sends_the_browser_off_the_console(
    locked: testing.TestClient, target: str
) -> None:
    good = locked.simulate_post(
        "/ui/login",
        body=f"token={TOKEN}&next={target}",
        content_type="application/x-www-form-urlencoded",
    )
    assert good.headers["location"].endswith("/ui")


def test_an_objective_without_a_forecast_shows_no_prediction() -> None:
    world = ConsoleWorld()
    only_b = ObjectiveDraft(selector='temp{host="b"}', lo=20.0, hi=80.0, target=0.99)
    world.services.definitions.apply(
        SlaDraft(name="temps-b", objectives=(attrs.evolve(only_b, window="2h"),))
    )
    world.state.refresh()
    page = testing.TestClient(world.app()).simulate_get("/ui/sla/temps-b")
    assert page.status_code == 200
    assert "probability of a bad slice –, ETA –" in page.text


def test_monitoring_run_gives_the_console_its_sla_manager(tmp_path: Path) -> None:
    config = load_run_config(
        {
            "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "MONITORING_GRPC_PORT": "0",
        }
    )
    container = AllInOneContainer(config=config)
    container.init_resources()
    try:
        client = testing.TestClient(container.api.app())
        page = client.simulate_get("/ui").text
    finally:
        container.shutdown_resources()
    assert "No SLA manager is set" not in page
    assert "SLO state as of the last refresh" in page


def _page_data(text: str) -> Any:
    found = re.search(
        r'<script type="application/json" id="page-data">(.*?)</script>', text, re.S
    )
    assert found is not None
    return json.loads(found.group(1))


def test_the_burn_down_continues_with_the_predicted_budget_unrecorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = ConsoleWorld()
    recorded: list[object] = []
    monkeypatch.setattr(world.log, "record", recorded.append)
    client = testing.TestClient(world.app())
    page = client.simulate_get("/ui/sla/temps/budget", params={"objective": "0"})
    assert page.status_code == 200
    data = _page_data(page.text)
    charted = {s["series"]["id"]: s for s in data["series"]}
    preview = world.services.predictions.preview("temps", objective=0)
    [prediction] = [s.prediction for s in preview.objectives[0].series if s.series == A]
    assert prediction is not None and prediction.slices
    continued = charted[A.id]["predicted"]
    assert continued["t"] == [s.end for s in prediction.slices]
    assert continued["budget"] == [
        s.projected_budget_remaining for s in prediction.slices
    ]
    # Far above the range from now on: the budget runs out within the horizon.
    assert continued["budget"][-1] < continued["budget"][0]
    assert continued["breach_at"] is not None
    assert charted[B.id]["predicted"] is None  # no forecast of B
    client.simulate_get("/ui/sla/temps")
    assert recorded == []  # neither page recorded a prediction


def test_an_sla_not_yet_in_the_snapshot_shows_its_previewed_prediction() -> None:
    world = ConsoleWorld()
    world.services.definitions.apply(draft("temps-new"))  # not refreshed since
    page = testing.TestClient(world.app()).simulate_get("/ui/sla/temps-new")
    assert page.status_code == 200
    [objective] = _page_data(page.text)["objectives"]
    assert objective["status"] is None
    assert objective["predicted"]["probability"] is not None
    assert objective["predicted"]["probability"] > 0.5
