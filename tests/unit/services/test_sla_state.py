"""The SLO state refresh: figures counted by hand, failures, deletions, the cap."""

import logging
from datetime import UTC, datetime

import pytest

from monitoring_core.services.sla_state import ObjectiveState, SlaStateService
from monitoring_core.slo import Status
from tests.support.sla_state_world import END, NOW, A, B, StateWorld, draft


def _objective(state: SlaStateService, sla: str = "temps") -> ObjectiveState:
    (found,) = [s for s in state.snapshot.slas if s.sla == sla]
    (objective,) = found.objectives
    return objective


def test_each_window_shows_the_worst_series_counted_slice_by_slice() -> None:
    world = StateWorld()
    assert world.state.refresh()
    objective = _objective(world.state)
    by_window = {w.window_seconds: w for w in objective.windows}
    # The default windows, then the compliance window (2 h).
    assert list(by_window) == [3600, 3 * 3600, 12 * 3600, 2 * 3600]
    for seconds, bad in ((3600, 5), (7200, 6), (3 * 3600, 6), (12 * 3600, 7)):
        measured = seconds // 60
        window = by_window[seconds]
        assert window.sli == pytest.approx((measured - bad) / measured)
        assert window.burn_rate == pytest.approx(bad / measured / 0.01)
        assert window.budget_remaining == pytest.approx(1 - bad / (0.01 * measured))
    assert (by_window[3600].above_slices, by_window[3600].below_slices) == (3, 2)
    assert objective.status is Status.VIOLATING  # 114/120 < 99 %
    assert objective.series_count == 2
    assert objective.objective == "0"


def test_the_prediction_is_the_worst_series_a_forecast_far_out_of_range() -> None:
    world = StateWorld()
    world.state.refresh()
    predicted = _objective(world.state).predicted
    assert predicted is not None
    assert predicted.horizon_seconds == 600
    # Every one of the ten predicted slices is bad beyond doubt.
    assert predicted.bad_slice_probability == pytest.approx(1.0, abs=1e-6)
    assert predicted.expected_bad_slices == pytest.approx(10.0, abs=1e-5)
    # The first predicted slice is the one under way: the ETA is now.
    assert predicted.eta_seconds == 0.0


def test_series_rows_appear_only_up_to_the_cap() -> None:
    capped = StateWorld(series_cap=1)
    capped.state.refresh()
    assert _objective(capped.state).series == ()
    listed = StateWorld(series_cap=2)
    listed.state.refresh()
    series = {s.series: s for s in _objective(listed.state).series}
    assert list(series) == [A, B]
    assert series[B].predicted is None  # no forecast
    assert series[B].status is Status.OK
    assert series[A].status is Status.VIOLATING
    assert {w.sli for w in series[B].windows} == {1.0}


def test_a_failing_refresh_keeps_the_values_and_the_timestamp_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = StateWorld()
    assert world.state.refresh()
    before = world.state.snapshot
    assert before.refreshed_at is not None
    assert before.refreshed_at.timestamp() == NOW
    world.source.available = False
    world.clock.advance(60)
    with caplog.at_level(logging.INFO, "monitoring_core.services.sla_state"):
        assert not world.state.refresh()
        assert not world.state.refresh()
        failing = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(failing) == 1
        assert "temps" in failing[0].getMessage()
        after = world.state.snapshot
        assert after.slas == before.slas
        assert after.refreshed_at == before.refreshed_at
        assert after.failures == 2
        world.source.available = True
        assert world.state.refresh()
    assert [r.getMessage() for r in caplog.records[1:]] == [
        "SLO state refresh recovered"
    ]
    assert world.state.snapshot.refreshed_at is not None
    assert world.state.snapshot.refreshed_at.timestamp() == NOW + 60


def test_a_deleted_sla_is_gone_from_the_next_snapshot() -> None:
    world = StateWorld()
    world.services.definitions.apply(draft("other"))
    world.state.refresh()
    assert [s.sla for s in world.state.snapshot.slas] == ["other", "temps"]
    world.services.definitions.delete("temps")
    assert world.state.refresh()
    assert [s.sla for s in world.state.snapshot.slas] == ["other"]


def test_every_refresh_records_its_predictions_for_scoring() -> None:
    world = StateWorld()
    world.state.refresh()
    world.clock.advance(60)
    world.state.refresh()
    records = world.log.between(
        "temps", datetime.fromtimestamp(END - 60, UTC), world.clock.now()
    )
    # One per refresh for series a (b has no forecast), a slice apart.
    assert {r.series for r in records} == {A}
    assert sorted(r.made_at for r in records) == [END, END + 60]
