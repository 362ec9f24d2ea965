"""A history younger than the window is warming up, not a bare insufficient_data."""

import pytest

from monitoring_core.slo import (
    AllowedRange,
    Slice,
    SliceState,
    Status,
    evaluate_window,
    objective_status,
    worst_status,
)

RANGE = AllowedRange(lo=0.0, hi=100.0)
DELTA = 60
STATES = {
    "g": SliceState.GOOD,
    "^": SliceState.ABOVE,
    ".": SliceState.UNMEASURED,
}


def slices(pattern: str) -> tuple[Slice, ...]:
    """``g`` good (values 50-60), ``^`` above (max 110), ``.`` unmeasured."""
    out = []
    for k, ch in enumerate(pattern):
        state = STATES[ch]
        measured = state is not SliceState.UNMEASURED
        out.append(
            Slice(
                start=k * DELTA,
                end=(k + 1) * DELTA,
                state=state,
                minimum=50.0 if measured else None,
                maximum=(110.0 if state is SliceState.ABOVE else 60.0)
                if measured
                else None,
                samples=4 if measured else 0,
            )
        )
    return tuple(out)


def report(pattern: str, target: float = 0.9):
    return evaluate_window(slices(pattern), RANGE, target, DELTA, coverage_floor=0.9)


def test_a_history_that_began_inside_the_window_is_warming_up() -> None:
    young = report("." * 20 + "g" * 10)  # 10 of 30 minutes since the series began
    assert young.insufficient_data
    assert young.leading_unmeasured_slices == 20
    assert young.warming_up
    assert young.coverage == pytest.approx(10 / 30)
    assert objective_status(young, None) is Status.WARMING_UP


def test_a_series_that_went_silent_or_patchy_is_not_warming_up() -> None:
    stopped = report("g" * 10 + "." * 20)
    patchy = report("." * 20 + "g.g.g.g.g.")
    for r in (stopped, patchy):
        assert r.insufficient_data
        assert not r.warming_up
        assert objective_status(r, None) is Status.INSUFFICIENT_DATA


def test_small_gaps_after_the_start_stay_within_the_floor() -> None:
    # 19 measured of the 20 slices since the first one: 95 % >= the 90 % floor.
    r = report("." * 10 + "g" * 9 + "." + "g" * 10)
    assert r.leading_unmeasured_slices == 10
    assert r.warming_up
    assert r.coverage == pytest.approx(19 / 30)


def test_a_full_window_is_judged_as_usual_not_warming_up() -> None:
    full = report("g" * 30)
    assert not full.insufficient_data
    assert not full.warming_up
    assert objective_status(full, None) is Status.OK


def test_nothing_measured_is_insufficient_not_warming_up() -> None:
    empty = report("." * 30)
    assert empty.leading_unmeasured_slices == 30
    assert not empty.warming_up
    assert objective_status(empty, None) is Status.INSUFFICIENT_DATA
    assert not evaluate_window((), RANGE, 0.9, DELTA).warming_up


def test_a_young_history_that_already_spent_a_full_windows_budget_is_violating() -> (
    None
):
    # Target 0.9 over 30 slices: 3 bad slices are the whole budget; 4 exceed it
    # whatever the 20 unmeasured slices turn out to be.
    spent = report("." * 20 + "^^^^" + "g" * 6)
    assert spent.warming_up and spent.breach_certain
    assert objective_status(spent, None) is Status.VIOLATING
    within = report("." * 20 + "^^^" + "g" * 7)
    assert within.warming_up and not within.breach_certain
    assert objective_status(within, None) is Status.WARMING_UP


def test_warming_up_ranks_between_ok_and_insufficient_data() -> None:
    assert worst_status([Status.OK, Status.WARMING_UP]) is Status.WARMING_UP
    assert worst_status([Status.WARMING_UP, Status.INSUFFICIENT_DATA]) is (
        Status.INSUFFICIENT_DATA
    )
    assert worst_status([Status.WARMING_UP, Status.AT_RISK]) is Status.AT_RISK
