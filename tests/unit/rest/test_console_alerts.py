"""Alert state on the console (ADR 0057): overview column, SLA detail, outages.

The alerts come from the in-memory AlertStates (a verified fake: the same
contract runs on Prometheus); pages are read through Falcon's test client.
"""

import re
from datetime import timedelta

import pytest
from falcon import testing

from adapters.in_memory.alert_states import InMemoryAlertStates
from adapters.rest.api import create_app
from adapters.rest.ui.alert_views import ConsoleAlerts
from tests.support.console_world import ConsoleWorld
from tests.support.sla_state_world import draft

PAGE = "http://prometheus.example:9090/alerts"


class AlertWorld:
    """Two SLAs (``temps``, ``quiet``) and the alerts Prometheus would hold."""

    def __init__(self) -> None:
        self.world = ConsoleWorld()
        self.world.services.definitions.apply(draft("quiet"))
        self.world.state.refresh()
        self.alerts = InMemoryAlertStates(self.world.clock)
        self.now = self.world.clock.now()

    def client(self, configured: bool = True) -> testing.TestClient:
        alerts = ConsoleAlerts(self.alerts, PAGE) if configured else None
        app = create_app(
            self.world.store,
            self.world.clock,
            None,
            sla=self.world.use_cases,
            alerts=alerts,
        )
        return testing.TestClient(app)

    def fire(self, name: str, sla: str, objective: str = "0", **kw: object) -> None:
        labels = {"sla": sla, "objective": objective, "severity": "page"}
        self.alerts.hold(
            name,
            labels,
            since=kw.get("since", self.now - timedelta(minutes=3)),  # type: ignore[arg-type]
            value=float(kw.get("value", 14.5)),  # type: ignore[arg-type]
            for_seconds=float(kw.get("for_seconds", 0)),  # type: ignore[arg-type]
            annotations={"summary": f"SLA {sla}: burning"},
        )


@pytest.fixture
def aw() -> AlertWorld:
    return AlertWorld()


def cells(page: str) -> dict[str, str]:
    """Each overview row's alert state, by SLA name."""
    rows = re.findall(r'<tr data-sla="([^"]+)">(.*?)</tr>', page, re.S)
    return {
        name: re.search(r'data-alerts="(\w+)"', row).group(1)  # type: ignore[union-attr]
        for name, row in rows
    }


def order(page: str) -> list[str]:
    return re.findall(r'<tr data-sla="([^"]+)">', page)


def test_the_overview_shows_firing_pending_and_none_per_sla(aw: AlertWorld) -> None:
    aw.fire("SLOBurnRatePage", "temps")
    aw.fire("SLOPredictedBreach", "quiet", for_seconds=600)
    page = aw.client().simulate_get("/ui").text
    assert cells(page) == {"temps": "firing", "quiet": "pending"}
    assert 'title="SLOBurnRatePage"><span class="alert-firing">firing</span>' in page
    aw.alerts.release(
        "SLOPredictedBreach", {"sla": "quiet", "objective": "0", "severity": "page"}
    )
    assert cells(aw.client().simulate_get("/ui").text)["quiet"] == "none"


def test_the_overview_sorts_by_alerts_firing_first_then_by_name(
    aw: AlertWorld,
) -> None:
    assert order(aw.client().simulate_get("/ui").text) == ["quiet", "temps"]
    aw.fire("SLOBurnRatePage", "temps")
    page = aw.client().simulate_get("/ui", params={"sort": "alerts"}).text
    assert order(page) == ["temps", "quiet"]
    assert 'aria-current="true">alerts</a>' in page


@pytest.mark.parametrize(
    ("wanted", "shown"),
    [
        ("firing", ["temps"]),
        ("pending", []),
        ("none", ["quiet"]),
        ("active", ["temps"]),
    ],
)
def test_the_overview_filters_by_alert_state(
    aw: AlertWorld, wanted: str, shown: list[str]
) -> None:
    aw.fire("SLOBurnRatePage", "temps")
    page = aw.client().simulate_get("/ui", params={"alerts": wanted}).text
    assert order(page) == shown
    assert f'<option value="{wanted}" selected>' in page


def test_an_unknown_alert_filter_is_explained_and_ignored(aw: AlertWorld) -> None:
    result = aw.client().simulate_get("/ui", params={"alerts": "<loud>"})
    assert result.status_code == 200
    assert "unknown alerts filter &#39;&lt;loud&gt;&#39;" in result.text
    assert order(result.text) == ["quiet", "temps"]


def test_without_prometheus_the_column_says_so(aw: AlertWorld) -> None:
    page = aw.client(configured=False).simulate_get("/ui").text
    assert set(cells(page).values()) == {"unknown"}
    shown = (
        '<span class="alert-unknown">unknown</span> <small>(no Prometheus configured)'
    )
    assert page.count(shown) == 2
    assert "Alert state unknown (no Prometheus configured)." in page
    detail = aw.client(configured=False).simulate_get("/ui/sla/temps")
    assert detail.status_code == 200
    assert "Alert state unknown (no Prometheus configured)." in detail.text


def test_an_unreachable_prometheus_leaves_the_pages_up_and_says_so(
    aw: AlertWorld,
) -> None:
    aw.alerts.available = False
    client = aw.client()
    overview = client.simulate_get("/ui")
    assert overview.status_code == 200
    assert set(cells(overview.text).values()) == {"unknown"}
    assert "Alert state unavailable: in-memory alert states switched off" in (
        overview.text
    )
    filtered = client.simulate_get("/ui", params={"alerts": "firing"})
    assert "the alerts filter is not applied" in filtered.text
    assert order(filtered.text) == ["quiet", "temps"]
    detail = client.simulate_get("/ui/sla/temps")
    assert detail.status_code == 200 and "Traceback" not in detail.text
    assert "Alert state unavailable" in detail.text and f'href="{PAGE}"' in detail.text


def test_the_detail_page_lists_the_slas_alerts_with_state_since_and_labels(
    aw: AlertWorld,
) -> None:
    since = aw.now - timedelta(minutes=7)
    aw.fire("SLOBurnRatePage", "temps", since=since, value=16.25)
    aw.fire("SLOPredictedBreach", "temps", for_seconds=3600)
    aw.fire("SLOBurnRatePage", "quiet")
    page = aw.client().simulate_get("/ui/sla/temps").text
    rows = re.findall(r'<tr data-alert="(\w+)">(.*?)</tr>', page, re.S)
    assert [name for name, _ in rows] == ["SLOBurnRatePage", "SLOPredictedBreach"]
    first = rows[0][1]
    assert '<td class="alert-firing">firing</td>' in first
    stamp = since.strftime("%Y-%m-%dT%H:%M:%S")
    assert f'<time datetime="{stamp}.000Z">' in first
    assert "<td>16.25</td>" in first and "<td>page</td>" in first
    assert 'href="#objective-0"' in first and "SLA temps: burning" in first
    assert '<td class="alert-pending">pending</td>' in rows[1][1]
    assert 'data-alerts="firing"' in page and f'href="{PAGE}"' in page


def test_the_detail_page_says_when_no_alert_is_active(aw: AlertWorld) -> None:
    page = aw.client().simulate_get("/ui/sla/quiet").text
    assert 'data-alerts="none"' in page
    assert "No alert of this SLA is pending or firing in Prometheus" in page


def test_alert_labels_and_annotations_are_escaped(aw: AlertWorld) -> None:
    aw.alerts.hold(
        "X",
        {"sla": "temps", "team": "<script>alert(1)</script>"},
        since=aw.now,
        value=1.0,
        annotations={"summary": "<b>bold</b>"},
    )
    page = aw.client().simulate_get("/ui/sla/temps").text
    assert "<script>alert(1)" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;" in page


def test_the_link_in_every_generated_alert_leads_to_the_slas_page(
    aw: AlertWorld,
) -> None:
    # ``monitoring sla rules`` writes sla_url http://.../ui/slas/{sla}.
    client = aw.client()
    moved = client.simulate_get("/ui/slas/temps", query_string="range=1h")
    assert moved.status_code == 301
    assert moved.headers["location"].endswith("/ui/sla/temps?range=1h")
    assert (
        client.simulate_get("/ui/sla/temps", params={"range": "1h"}).status_code == 200
    )
    odd = client.simulate_get("/ui/slas/a%20b")
    assert odd.headers["location"].endswith("/ui/sla/a%20b")
