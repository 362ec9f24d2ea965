"""The SLO state on /metrics: the registry's text, parsed back by prometheus_client."""

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from adapters.prometheus_client.sla_state import SlaStateCollector
from tests.support.sla_state_world import NOW, A, B, StateWorld

Scraped = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(world: StateWorld) -> Scraped:
    """Every sample of a scrape, by name and labels; no sample has a timestamp."""
    registry = CollectorRegistry()
    registry.register(SlaStateCollector(world.state))
    text = generate_latest(registry).decode()
    found: Scraped = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            assert sample.timestamp is None, sample
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return (name, frozenset(labels.items()))


OBJECTIVE = {"sla": "temps", "objective": "0"}


def test_the_objective_gauges_carry_the_shared_names_and_labels() -> None:
    world = StateWorld()
    world.state.refresh()
    got = scrape(world)
    one_hour = {**OBJECTIVE, "window": "1h"}
    assert got[key("monitoring_sla_sli_ratio", **one_hour)] == pytest.approx(55 / 60)
    assert got[key("monitoring_sla_burn_rate_ratio", **one_hour)] == pytest.approx(
        5 / 60 / 0.01
    )
    remaining = key("monitoring_sla_error_budget_remaining_ratio", **one_hour)
    assert got[remaining] == pytest.approx(1 - 5 / 0.6)
    compliance = key("monitoring_sla_sli_ratio", **OBJECTIVE, window="2h")
    assert got[compliance] == pytest.approx(114 / 120)
    above = key("monitoring_sla_bad_slices", **one_hour, side="above")
    below = key("monitoring_sla_bad_slices", **one_hour, side="below")
    assert (got[above], got[below]) == (3, 2)
    horizon = {**OBJECTIVE, "horizon": "10m"}
    probability = "monitoring_sla_predicted_bad_slice_probability_ratio"
    assert got[key(probability, **horizon)] == pytest.approx(1.0, abs=1e-6)
    assert got[key("monitoring_sla_predicted_eta_seconds", **horizon)] == 0.0
    expected = key("monitoring_sla_predicted_bad_slices", **horizon)
    assert got[expected] == pytest.approx(10.0, abs=1e-5)
    statuses = {
        dict(labels)["status"]: value
        for (name, labels), value in got.items()
        if name == "monitoring_sla_status"
    }
    assert statuses == {
        "ok": 0,
        "at_risk": 0,
        "violating": 1,
        "insufficient_data": 0,
        "warming_up": 0,
    }
    assert got[key("monitoring_sla_refresh_timestamp_seconds")] == NOW
    assert got[key("monitoring_sla_objective_series", **OBJECTIVE)] == 2


def test_no_series_label_below_the_cap_and_one_row_per_series_up_to_it() -> None:
    objective_only = StateWorld()
    objective_only.state.refresh()
    assert not [k for k in scrape(objective_only) if "series" in dict(k[1])]
    per_series = StateWorld(series_cap=2)
    per_series.state.refresh()
    got = scrape(per_series)
    name = "monitoring_sla_series_sli_ratio"
    assert got[key(name, **OBJECTIVE, window="1h", series=A.id)] == pytest.approx(
        55 / 60
    )
    assert got[key(name, **OBJECTIVE, window="1h", series=B.id)] == 1.0
    # The objective-level families never hold a series row.
    assert not [
        k
        for k in got
        if not k[0].startswith("monitoring_sla_series_") and "series" in dict(k[1])
    ]


def test_no_eta_no_gauge_and_nothing_before_the_first_refresh() -> None:
    world = StateWorld()
    before = scrape(world)
    assert key("monitoring_sla_refresh_timestamp_seconds") not in before
    assert [k[0] for k in before] == ["monitoring_sla_refresh_failures_total"]
    per_series = StateWorld(series_cap=2)
    per_series.state.refresh()
    got = scrape(per_series)
    eta = "monitoring_sla_series_predicted_eta_seconds"
    assert key(eta, **OBJECTIVE, horizon="10m", series=A.id) in got
    assert key(eta, **OBJECTIVE, horizon="10m", series=B.id) not in got


def test_a_deleted_sla_disappears_from_the_scrape() -> None:
    world = StateWorld()
    world.state.refresh()
    assert any(dict(k[1]).get("sla") == "temps" for k in scrape(world))
    world.services.definitions.delete("temps")
    world.state.refresh()
    assert not any(dict(k[1]).get("sla") == "temps" for k in scrape(world))
    assert scrape(world)[key("monitoring_sla_refresh_timestamp_seconds")] == NOW


def test_a_failed_refresh_counts_and_keeps_the_last_timestamp() -> None:
    world = StateWorld()
    world.state.refresh()
    world.source.available = False
    world.clock.advance(120)
    world.state.refresh()
    got = scrape(world)
    assert got[key("monitoring_sla_refresh_failures_total")] == 1
    assert got[key("monitoring_sla_refresh_timestamp_seconds")] == NOW
    one_hour = key("monitoring_sla_sli_ratio", **OBJECTIVE, window="1h")
    assert got[one_hour] == pytest.approx(55 / 60)
