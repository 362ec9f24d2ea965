"""The web console in a real browser (issue 15): clean pages, true charts, a11y.

Every page is loaded in light and dark mode with no console error, no failed
request and no serious axe-core violation; its screenshot goes to docs/console/.
Chart data is compared with the REST API's answer for the same query (or,
for SLAs, which have no REST route, with the judgement use case itself).
"""

import json
import pathlib
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import serve
from tests.support.console_world import ConsoleWorld
from tests.support.sla_state_world import A

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "console"
AXE = pathlib.Path(__file__).parent / "vendor" / "axe.min.js"
PAGES = {
    "overview": "/ui",
    "sla": "/ui/sla/temps",
    "budget": "/ui/sla/temps/budget?objective=0&range=3h",
    "series-explorer": "/ui/series?match=temp",
    "series": f"/ui/series/{A.id}",
    "etl": "/ui/etl",
    "docs": "/docs",
}
UPSTREAM = {"/docs": {"nested-interactive"}}
"""Serious axe rules Swagger UI itself breaks (a copy button inside each
operation's summary button), which no stylesheet can fix; every other rule
holds on /docs too, and every rule on the console's own pages."""
CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-chart]')]
    .every(e => e.dataset.points !== undefined)"""


class Watched:
    """A page with every console error, page error and failed request noted."""

    def __init__(self, context: Any) -> None:
        self.problems: list[str] = []
        self.page = context.new_page()
        note = self.problems.append
        self.page.on(
            "console",
            lambda m: (
                note(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: note(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: note(f"failed: {r.url} {r.failure}"))
        self.page.on(
            "response",
            lambda r: note(f"{r.status}: {r.url}") if r.status >= 400 else None,
        )

    def open(self, url: str) -> Any:
        self.page.goto(url, wait_until="networkidle")
        if "/docs" in url:
            self.page.wait_for_selector(".opblock", timeout=10_000)
        else:
            self.page.wait_for_function(CHARTS_DRAWN, timeout=10_000)
        return self.page


def _data(page: Any) -> Any:
    return page.evaluate("JSON.parse(document.getElementById('page-data').textContent)")


def _rest(base_url: str, path: str) -> Any:
    with urllib.request.urlopen(base_url + path, timeout=10) as answer:
        return json.loads(answer.read())


def _serious(page: Any, known: set[str]) -> list[str]:
    # Evaluated over the DevTools protocol: the page's CSP allows no injected tag.
    page.evaluate(AXE.read_text() + "\n;0")
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in found["violations"]
        if v["impact"] in ("serious", "critical") and v["id"] not in known
    ]


WIDEST = "document.documentElement.scrollWidth"


def test_on_a_narrow_screen_the_overview_table_scrolls_in_its_box(
    browser: Any, base_url: str
) -> None:
    context = browser.new_context(viewport={"width": 700, "height": 900})
    try:
        page = Watched(context).open(base_url + "/ui")
        assert page.evaluate(WIDEST) <= 700
        box = page.query_selector(".scroll:has(#slas)")
        assert box is not None
        widths = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
        assert widths[0] > widths[1]  # the table is wider: it scrolls, not cut
        box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
        last = page.query_selector("#slas thead th:last-child")
        assert last is not None and last.is_visible()
        seen = last.evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " return r.right <= window.innerWidth + 1; }"
        )
        assert seen
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_is_clean_accessible_and_photographed(
    browser: Any, base_url: str, scheme: str
) -> None:
    context = browser.new_context(
        color_scheme=scheme, viewport={"width": 1280, "height": 900}
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for name, path in PAGES.items():
            watched = Watched(context)
            page = watched.open(base_url + path)
            charts = page.query_selector_all("[data-chart]")
            for chart in charts:
                assert int(chart.get_attribute("data-points")) > 0, (name, chart)
                assert chart.query_selector("canvas") is not None, name
            if name in ("sla", "budget", "series", "etl"):
                assert charts, f"{name} draws no chart"
            # Nothing is wider than the page: wide tables scroll in their box.
            assert page.evaluate(WIDEST) <= 1280, name
            assert _serious(page, UPSTREAM.get(path, set())) == [], (name, scheme)
            page.screenshot(path=str(SHOTS / f"{name}-{scheme}.png"), full_page=True)
            assert watched.problems == [], (name, scheme)
            page.close()
    finally:
        context.close()


def test_series_charts_show_what_the_rest_api_answers(
    browser: Any, base_url: str
) -> None:
    watched = Watched(browser.new_context())
    data = _data(watched.open(f"{base_url}/ui/series/{A.id}?range=12h"))
    history = data["history"]
    v1 = f"/v1/series/{A.id}"
    query = f"?from={history['from']}&to={history['to']}"
    assert len(history["points"]) == 73
    assert history == _rest(base_url, f"{v1}/values/history{query}")
    assert data["forecast"] == _rest(base_url, f"{v1}/forecast")
    scores = data["scores"]
    assert [s["mae"] for s in scores["scores"]] == [3.5, 2.5, 1.5]
    assert scores == _rest(base_url, f"{v1}/forecast/scores{query}")
    assert data["metadata"] == _rest(base_url, f"{v1}/metadata")
    assert data["values"] == _rest(base_url, f"{v1}/values")
    assert data["series"] == _rest(base_url, v1)
    runs = _data(watched.open(f"{base_url}/ui/etl"))
    assert runs == _rest(base_url, "/v1/etl/runs?limit=100")
    listed = _data(watched.open(f"{base_url}/ui/series?match=temp"))
    assert listed == _rest(base_url, "/v1/series?match[]=temp&limit=200")
    assert watched.problems == []


def test_sla_charts_show_what_the_judgement_and_the_rest_api_answer(
    browser: Any, base_url: str, world: ConsoleWorld
) -> None:
    watched = Watched(browser.new_context())
    data = _data(watched.open(f"{base_url}/ui/sla/temps?range=3h"))
    [objective] = world.services.definitions.get("temps").objectives
    [shown] = data["objectives"]
    charts = {c["series"]["id"]: c for c in shown["charts"]}
    first = charts[A.id]
    start, end = first["t"][0], first["t"][-1] + objective.slice_seconds
    assert end - start == 3 * 3600
    sliced = {
        k.id: s for k, s in world.services.judgement.sliced(objective, start, end)
    }
    assert set(charts) == set(sliced) and len(charts) == 2
    for series_id, chart in charts.items():
        slices = sliced[series_id]
        assert chart["t"] == [s.start for s in slices]
        assert chart["max"] == [s.maximum for s in slices]
        assert chart["min"] == [s.minimum for s in slices]
        report = world.services.judgement.report(objective, slices)
        assert [(e["start"], e["end"]) for e in chart["episodes"]] == [
            (e.start, e.end) for e in report.episodes
        ]
        stored = world.store.latest_forecast(series_id)
        if stored is None:  # series b: in Prometheus, no stored result (404)
            assert chart["forecast"] is None
        else:
            assert (
                chart["forecast"]
                == _rest(base_url, f"/v1/series/{series_id}/forecast")["forecast"]
            )
    assert len(charts[A.id]["episodes"]) == 5  # slices 10, 20, 30, 40-41, 90
    burn = _data(watched.open(f"{base_url}/ui/sla/temps/budget?objective=0&range=3h"))
    for shown_series in burn["series"]:
        assert len(shown_series["t"]) > 40
        first_end, last_end = shown_series["t"][0], shown_series["t"][-1]
        count = objective.window_seconds // objective.slice_seconds
        step = objective.slice_seconds
        judged = dict(
            (k.id, s)
            for k, s in world.services.judgement.sliced(
                objective, first_end - count * step, last_end
            )
        )[shown_series["series"]["id"]]
        for t, budget in zip(shown_series["t"], shown_series["budget"], strict=True):
            i = round((t - judged[0].start) / step)
            window = judged[i - count : i]
            assert window[-1].end == t
            assert (
                budget
                == world.services.judgement.report(objective, window).budget_remaining
            )
    assert charts[A.id]["forecast"] is not None
    assert watched.problems == []


def test_overview_to_sla_to_series_by_clicking(browser: Any, base_url: str) -> None:
    watched = Watched(browser.new_context())
    page = watched.open(f"{base_url}/ui")
    page.get_by_role("link", name="temps", exact=True).click()
    page.wait_for_url("**/ui/sla/temps")
    page.wait_for_function(CHARTS_DRAWN)
    page.locator("figcaption a", has_text="temp").first.click()
    page.wait_for_url(f"**/ui/series/{A.id}")
    page.wait_for_function(CHARTS_DRAWN)
    assert page.get_by_role("heading", level=1).inner_text() == "Series temp"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert watched.problems == []


def test_a_page_picks_up_a_new_value_without_reloading(
    browser: Any, world: ConsoleWorld
) -> None:
    url, stop = serve(world.app(refresh_seconds=1))
    try:
        watched = Watched(browser.new_context())
        page = watched.open(f"{url}/ui/etl")
        page.evaluate("window.notReloaded = true")
        assert "run-99" not in page.inner_text("#runs")
        world.add_run(99, series=4321)
        page.wait_for_function(
            "() => document.querySelector('#runs').innerText.includes('4321')",
            timeout=5_000,
        )
        assert page.evaluate("window.notReloaded") is True
        page.wait_for_function(CHARTS_DRAWN)
        assert watched.problems == []
    finally:
        stop()


def test_docs_try_it_out_calls_the_running_api(browser: Any, base_url: str) -> None:
    watched = Watched(browser.new_context())
    page = watched.open(f"{base_url}/docs")
    operation = page.locator("#operations-default-listEtlRuns")
    operation.locator(".opblock-summary-control").click()
    # tryItOutEnabled: the operation opens ready to execute (its button says Cancel)
    # (waited for: Swagger UI renders the opened operation after the click)
    operation.get_by_role("button", name="Cancel").wait_for(
        state="visible", timeout=10_000
    )
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status")
    status.wait_for(timeout=10_000)
    assert status.inner_text().strip() == "200"
    assert (
        '"run_id": "run-11"' in operation.locator(".live-responses-table").inner_text()
    )
    assert watched.problems == []
