"""Time-slice SLO mathematics: slices, episodes, budgets, predictions, status."""

import math
import random
from statistics import NormalDist

import pytest

from monitoring_core.forecasts import ForecastPoint
from monitoring_core.slo import (
    AllowedRange,
    Episode,
    PredictedSlice,
    Prediction,
    Side,
    Slice,
    SliceState,
    Status,
    WindowReport,
    evaluate_window,
    find_episodes,
    objective_status,
    predict,
    slice_samples,
    worst_status,
)

Z95 = NormalDist().inv_cdf(0.975)
RANGE = AllowedRange(lo=0.0, hi=100.0)
DELTA = 60


def make_slices(
    pattern: str,
    start: float = 0.0,
    step: int = DELTA,
    values: dict[int, float] | None = None,
) -> tuple[Slice, ...]:
    """Slices from a pattern: ``g`` good, ``^`` above, ``v`` below, ``.`` unmeasured.

    An above slice has maximum 110 and a below slice minimum -10 unless ``values``
    gives that slice's violating extreme.
    """
    values = values or {}
    result = []
    for k, ch in enumerate(pattern):
        left = start + k * step
        state = {
            "g": SliceState.GOOD,
            "^": SliceState.ABOVE,
            "v": SliceState.BELOW,
            ".": SliceState.UNMEASURED,
        }[ch]
        lo: float | None = 50.0
        hi: float | None = 60.0
        if state is SliceState.ABOVE:
            hi = values.get(k, 110.0)
        elif state is SliceState.BELOW:
            lo = values.get(k, -10.0)
        elif state is SliceState.UNMEASURED:
            lo = hi = None
        result.append(
            Slice(
                start=left,
                end=left + step,
                state=state,
                minimum=lo,
                maximum=hi,
                samples=0 if lo is None else 4,
            )
        )
    return tuple(result)


def point(t: float, mean: float, sigma: float) -> ForecastPoint:
    half95 = Z95 * sigma
    half80 = NormalDist().inv_cdf(0.9) * sigma
    return ForecastPoint(
        timestamp=t,
        mean=mean,
        lower_80=mean - half80,
        upper_80=mean + half80,
        lower_95=mean - half95,
        upper_95=mean + half95,
    )


def reference_probability(mean: float, sigma: float, allowed: AllowedRange) -> float:
    dist = NormalDist(mean, sigma)
    below = 0.0 if allowed.lo is None else dist.cdf(allowed.lo)
    above = 0.0 if allowed.hi is None else 1.0 - dist.cdf(allowed.hi)
    return below + above


# --- the allowed range -----------------------------------------------------------


def test_bounds_themselves_are_good() -> None:
    assert RANGE.side_of(0.0) is None
    assert RANGE.side_of(100.0) is None
    assert RANGE.side_of(100.5) is Side.ABOVE
    assert RANGE.side_of(-0.5) is Side.BELOW
    assert RANGE.distance(50.0) == 0.0
    assert RANGE.distance(100.0) == 0.0
    assert RANGE.distance(103.0) == 3.0
    assert RANGE.distance(-2.0) == 2.0


def test_open_bounds_never_violate() -> None:
    upper_only = AllowedRange(hi=1.0)
    assert upper_only.side_of(-1e300) is None
    assert upper_only.distance(-1e300) == 0.0
    lower_only = AllowedRange(lo=1.0)
    assert lower_only.side_of(1e300) is None
    assert lower_only.side_of(0.0) is Side.BELOW


# --- slicing -----------------------------------------------------------------------


def test_slice_is_judged_on_its_max_and_min() -> None:
    samples = [
        (0.0, 50.0),
        (30.0, 101.0),  # slice 0: one spike above
        (60.0, 50.0),
        (119.0, -1.0),  # slice 1: one dip below
        (120.0, 0.0),
        (179.0, 100.0),  # slice 2: both bounds reached, still good
    ]
    slices = slice_samples(samples, 0.0, 240.0, DELTA, RANGE)
    assert [s.state for s in slices] == [
        SliceState.ABOVE,
        SliceState.BELOW,
        SliceState.GOOD,
        SliceState.UNMEASURED,
    ]
    assert (slices[0].minimum, slices[0].maximum, slices[0].samples) == (50, 101, 2)
    assert (slices[3].minimum, slices[3].maximum, slices[3].samples) == (None, None, 0)
    assert [(s.start, s.end) for s in slices] == [
        (0, 60),
        (60, 120),
        (120, 180),
        (180, 240),
    ]


def test_slice_outside_on_both_sides_takes_the_larger_distance() -> None:
    samples = [
        (0.0, 103.0),
        (1.0, -5.0),  # below by 5 beats above by 3
        (60.0, 108.0),
        (61.0, -5.0),  # above by 8 beats below by 5
        (120.0, 104.0),
        (121.0, -4.0),  # a tie goes above
    ]
    slices = slice_samples(samples, 0.0, 180.0, DELTA, RANGE)
    assert [s.state for s in slices] == [
        SliceState.BELOW,
        SliceState.ABOVE,
        SliceState.ABOVE,
    ]


def test_samples_outside_the_range_and_nan_values_are_ignored() -> None:
    samples = [
        (-0.001, 500.0),
        (120.0, 500.0),  # the end is exclusive
        (10.0, math.nan),
        (70.0, 20.0),
        (60.0, math.nan),
    ]
    slices = slice_samples(samples, 0.0, 120.0, DELTA, RANGE)
    assert [s.state for s in slices] == [SliceState.UNMEASURED, SliceState.GOOD]
    assert slices[1].samples == 1


def test_a_sample_on_a_slice_edge_opens_the_next_slice() -> None:
    slices = slice_samples([(60.0, 200.0)], 0.0, 120.0, DELTA, RANGE)
    assert [s.state for s in slices] == [SliceState.UNMEASURED, SliceState.ABOVE]


def test_slicing_matches_a_naive_reference_for_unsorted_input() -> None:
    rng = random.Random(7)
    start, n = 1_700_000_040.0, 720
    end = start + n * DELTA
    samples = [
        (rng.uniform(start - 600, end + 600), rng.gauss(50, 30)) for _ in range(3000)
    ]
    rng.shuffle(samples)
    slices = slice_samples(samples, start, end, DELTA, RANGE)
    assert len(slices) == n
    for k in range(0, n, 7):
        left = start + k * DELTA
        inside = [v for t, v in samples if left <= t < left + DELTA]
        s = slices[k]
        assert s.samples == len(inside)
        if not inside:
            assert s.state is SliceState.UNMEASURED
            continue
        assert (s.minimum, s.maximum) == (min(inside), max(inside))
        up, down = max(inside) - 100.0, 0.0 - min(inside)
        if up > 0 and (down <= 0 or up >= down):
            assert s.state is SliceState.ABOVE
        elif down > 0:
            assert s.state is SliceState.BELOW
        else:
            assert s.state is SliceState.GOOD


@pytest.mark.parametrize(
    ("start", "end", "delta"),
    [(0.0, 90.0, 60), (0.0, 0.0, 60), (60.0, 0.0, 60), (0.0, 60.0, 0)],
)
def test_a_range_that_is_not_a_positive_multiple_of_the_slice_is_rejected(
    start: float, end: float, delta: int
) -> None:
    with pytest.raises(ValueError):
        slice_samples([], start, end, delta, RANGE)


# --- episodes ----------------------------------------------------------------------


def test_gaps_between_bad_slices_of_one_side_are_bridged() -> None:
    slices = make_slices("g^..^^g", values={1: 105.0, 4: 130.0, 5: 120.0})
    (episode,) = find_episodes(slices, RANGE)
    assert episode == Episode(
        side=Side.ABOVE,
        start=60.0,
        end=360.0,
        open=False,
        bad_slices=3,
        unmeasured_slices=2,
        worst_value=130.0,
        worst_distance=30.0,
    )
    assert episode.duration_seconds == 300.0


def test_a_side_change_splits_episodes() -> None:
    slices = make_slices("^^vv.v^g", values={2: -3.0, 3: -7.0, 5: -1.0})
    first, second, third = find_episodes(slices, RANGE)
    assert (first.side, first.start, first.end, first.bad_slices) == (
        Side.ABOVE,
        0,
        120,
        2,
    )
    assert not first.open
    assert (second.side, second.start, second.end) == (Side.BELOW, 120, 360)
    assert (second.bad_slices, second.unmeasured_slices) == (3, 1)
    assert (second.worst_value, second.worst_distance) == (-7.0, 7.0)
    assert not second.open
    assert (third.side, third.start, third.end, third.open) == (
        Side.ABOVE,
        360,
        420,
        False,
    )


def test_a_good_slice_ends_an_episode_and_a_gap_before_it_is_not_bridged() -> None:
    (episode,) = find_episodes(make_slices("^^..g.."), RANGE)
    assert (episode.end, episode.unmeasured_slices, episode.open) == (120, 0, False)


def test_an_episode_running_into_the_end_is_open() -> None:
    (closed, running) = find_episodes(make_slices("vg^^"), RANGE)
    assert not closed.open
    assert running.open
    assert (running.start, running.end, running.bad_slices) == (120, 240, 2)


def test_a_trailing_gap_keeps_the_episode_open_without_extending_it() -> None:
    (episode,) = find_episodes(make_slices("g^^..."), RANGE)
    assert episode.open
    assert (episode.start, episode.end) == (60, 180)
    assert episode.unmeasured_slices == 0
    assert episode.duration_seconds == 120


def test_no_bad_slice_means_no_episode() -> None:
    assert find_episodes(make_slices("gg..g"), RANGE) == ()
    assert find_episodes((), RANGE) == ()


# --- window reports ----------------------------------------------------------------


def test_excursions_episodes_and_breach_are_kept_apart() -> None:
    # 100 measured slices at T = 0.9 allow 10 bad ones.
    calm = make_slices("g" * 40 + "^^.^" + "g" * 30 + "vv" + "g" * 25)
    report = evaluate_window(calm, RANGE, 0.9, DELTA)
    assert report.measured_slices == 100
    assert report.excursions == report.bad_slices == 5
    assert len(report.episodes) == 2
    assert report.sli == pytest.approx(0.95)
    assert report.gap == pytest.approx(0.05)
    assert not report.breached
    assert report.budget_remaining == pytest.approx(0.5)

    stormy = make_slices("g" * 40 + "^" * 12 + "g" * 48)
    report = evaluate_window(stormy, RANGE, 0.9, DELTA)
    assert (report.excursions, len(report.episodes)) == (12, 1)
    assert report.sli == pytest.approx(0.88)
    assert report.breached
    assert report.gap == pytest.approx(-0.02)


def test_budget_and_burn_rate_follow_hand_arithmetic() -> None:
    # 60 slices of 5 min: 55 good, 3 bad, 2 unmeasured; T = 0.99.
    slices = make_slices("g" * 20 + "^v^" + ".." + "g" * 35, step=300)
    report = evaluate_window(slices, RANGE, 0.99, 300)
    assert (report.total_slices, report.measured_slices) == (60, 58)
    assert (report.good_slices, report.above_slices, report.below_slices) == (
        55,
        2,
        1,
    )
    assert report.unmeasured_slices == 2
    assert report.window_seconds == 60 * 300
    assert report.coverage == pytest.approx(58 / 60)
    assert report.budget_slices == pytest.approx(0.58)  # (1 - 0.99) * 58
    assert report.budget_minutes == pytest.approx(2.9)  # 0.58 slices * 5 min
    assert report.budget_consumed == pytest.approx(3 / 0.58)
    remaining = report.budget_remaining
    assert remaining is not None
    assert remaining < 0
    assert remaining == pytest.approx(1 - 3 / 0.58)
    assert report.budget_remaining_minutes == pytest.approx((0.58 - 3) * 5)
    assert report.burn_rate == pytest.approx((3 / 58) / 0.01)
    assert report.breached


def test_negative_remaining_budget_is_reported_not_clamped() -> None:
    report = evaluate_window(make_slices("^" * 3 + "g" * 97), RANGE, 0.99, DELTA)
    assert report.budget_remaining == pytest.approx(1 - 3 / 1.0)
    assert report.budget_remaining_minutes == pytest.approx(-2.0)


def test_low_coverage_is_insufficient_data_never_green() -> None:
    slices = make_slices("g" * 23 + "." * 2)
    assert not evaluate_window(slices, RANGE, 0.99, DELTA).insufficient_data
    report = evaluate_window(slices, RANGE, 0.99, DELTA, coverage_floor=0.95)
    assert report.coverage == pytest.approx(0.92)
    assert report.insufficient_data
    assert report.sli == 1.0
    assert objective_status(report, None) is Status.INSUFFICIENT_DATA


def test_nothing_measured_has_no_sli_and_no_budget() -> None:
    report = evaluate_window(make_slices("...."), RANGE, 0.99, DELTA)
    assert (report.sli, report.gap, report.burn_rate) == (None, None, None)
    assert (report.budget_consumed, report.budget_remaining) == (None, None)
    assert report.budget_remaining_minutes == 0.0
    assert not report.breached
    assert report.insufficient_data


def test_an_empty_window_is_all_zeros() -> None:
    report = evaluate_window((), RANGE, 0.99, DELTA)
    assert (report.start, report.end, report.total_slices) == (0, 0, 0)
    assert report.coverage == 0.0
    assert report.episodes == ()
    assert report.worst_episode is None
    assert report.insufficient_data


def test_worst_episode_is_the_farthest_from_its_bound() -> None:
    slices = make_slices("^g^gv", values={0: 101.0, 2: 104.0, 4: -3.0})
    worst = evaluate_window(slices, RANGE, 0.5, DELTA).worst_episode
    assert worst is not None
    assert (worst.side, worst.worst_value, worst.start) == (Side.ABOVE, 104.0, 120)


def test_target_of_one_has_no_budget() -> None:
    report = evaluate_window(make_slices("g^"), RANGE, 1.0, DELTA)
    assert report.budget_consumed is None
    assert report.burn_rate is None
    assert report.breached


@pytest.mark.parametrize("target", [-0.1, 1.5, math.nan])
def test_a_target_outside_zero_to_one_is_rejected(target: float) -> None:
    with pytest.raises(ValueError):
        evaluate_window(make_slices("g"), RANGE, target, DELTA)


# --- predictions -------------------------------------------------------------------

NOW = 1_700_000_040.0  # a multiple of 60
PAST_GOOD = make_slices("g" * 60, start=NOW - 3600)


def test_a_series_trending_out_of_range_gets_an_eta_and_rising_probabilities() -> None:
    # 84, 88, ..., 120 with sigma 5: crosses hi = 100 at the 5th minute.
    points = [point(NOW + 60 * k, 80 + 4 * k, 5.0) for k in range(1, 11)]
    prediction = predict(points, RANGE, NOW, 600, DELTA, PAST_GOOD, 3600, 0.99)
    probabilities = [s.probability for s in prediction.slices]
    assert len(probabilities) == 10
    assert probabilities == sorted(probabilities)
    assert probabilities[0] < 0.01 < 0.99 < probabilities[-1]
    for s in prediction.slices:
        assert s.probability == pytest.approx(
            reference_probability(s.mean, 5.0, RANGE), abs=1e-12
        )
        assert (s.lower, s.upper) == pytest.approx((s.mean - Z95 * 5, s.mean + Z95 * 5))
    eta = prediction.eta
    assert eta is not None
    # The point at NOW + 300 lies in the slice [NOW + 300, NOW + 360), as a
    # sample at that time would; it is the first at least 1/3 likely bad.
    assert (eta.start, eta.end, eta.mean) == (NOW + 300, NOW + 360, 100.0)
    assert eta.probability == pytest.approx(0.5)
    assert eta.cumulative_probability == pytest.approx(0.5)
    assert eta.side is Side.ABOVE
    assert prediction.expected_bad_slices == pytest.approx(sum(probabilities))
    assert prediction.method.startswith("normal approximation")
    assert prediction.level == 0.95


def test_a_calm_series_has_no_eta_and_no_breach() -> None:
    points = [point(NOW + 60 * k, 50.0, 3.0) for k in range(1, 11)]
    prediction = predict(points, RANGE, NOW, 600, DELTA, PAST_GOOD, 3600, 0.99)
    assert prediction.eta is None
    assert not prediction.breach_predicted
    assert prediction.breach_at is None
    assert prediction.expected_bad_slices < 1e-9
    assert all(s.side is None or s.probability > 0 for s in prediction.slices)
    assert prediction.projected_budget_remaining == pytest.approx(1.0)
    report = evaluate_window(PAST_GOOD, RANGE, 0.99, DELTA)
    assert objective_status(report, prediction) is Status.OK


def test_two_sided_probability_matches_the_normal_distribution() -> None:
    allowed = AllowedRange(lo=0.0, hi=10.0)
    points = [point(NOW + 60, 4.0, 3.0), point(NOW + 120, 7.0, 2.0)]
    prediction = predict(points, allowed, NOW, 120, DELTA, (), 3600, 0.9)
    first, second = prediction.slices
    assert first.probability == pytest.approx(
        reference_probability(4.0, 3.0, allowed), abs=1e-12
    )
    assert first.side is Side.BELOW  # 4 is nearer to 0 than to 10
    assert second.probability == pytest.approx(
        reference_probability(7.0, 2.0, allowed), abs=1e-12
    )
    assert second.side is Side.ABOVE


def test_a_zero_width_interval_is_deterministic() -> None:
    points = [
        point(NOW + 60, 100.0, 0.0),  # on the bound: good
        point(NOW + 120, 100.5, 0.0),
        point(NOW + 180, -0.5, 0.0),
        point(NOW + 240, 0.0, 0.0),
    ]
    prediction = predict(points, RANGE, NOW, 240, DELTA, PAST_GOOD, 3600, 0.99)
    assert [(s.probability, s.side) for s in prediction.slices] == [
        (0.0, None),
        (1.0, Side.ABOVE),
        (1.0, Side.BELOW),
        (0.0, None),
    ]
    assert prediction.expected_bad_slices == 2.0


def test_a_projected_budget_below_zero_gives_breach_at() -> None:
    # T = 0.96 over 60 one-minute slices: 2.4 bad slices of budget. One bad slice
    # inside the window already, one that slides out of it before the first
    # future slice ends.
    past = make_slices("^" + "g" * 29 + "^" + "g" * 29, start=NOW - 3600)
    means = [50.0, 50.0, 150.0, 150.0]
    # One point in the middle of each of the next four slices.
    points = [point(NOW + 60 * k + 30, m, 0.0) for k, m in enumerate(means)]
    prediction = predict(points, RANGE, NOW, 240, DELTA, past, 3600, 0.96)
    remaining = [s.projected_budget_remaining for s in prediction.slices]
    assert remaining == pytest.approx(
        [1 - 1 / 2.4, 1 - 1 / 2.4, 1 - 2 / 2.4, 1 - 3 / 2.4]
    )
    assert prediction.eta is not None
    assert prediction.eta.start == NOW + 120  # likely bad, budget still left
    assert prediction.breach_at == NOW + 180
    assert prediction.breach_predicted
    assert prediction.projected_budget_remaining == pytest.approx(1 - 3 / 2.4)
    report = evaluate_window(past, RANGE, 0.96, DELTA)
    assert not report.breached
    assert objective_status(report, prediction) is Status.AT_RISK


def test_projected_budget_counts_probabilities_as_expected_bad_slices() -> None:
    points = [point(NOW + 30, 100.0, 4.0), point(NOW + 90, 100.0, 4.0)]
    prediction = predict(points, RANGE, NOW, 120, DELTA, PAST_GOOD, 3600, 0.9)
    # Each future slice is bad with p = 0.5; the window keeps 60 measured slices.
    budget = 0.1 * 60
    assert [s.projected_budget_remaining for s in prediction.slices] == (
        pytest.approx([1 - 0.5 / budget, 1 - 1.0 / budget])
    )


def test_points_coarser_than_slices_leave_slices_out() -> None:
    points = [point(NOW + 300, 50.0, 0.0), point(NOW + 600, 150.0, 0.0)]
    prediction = predict(points, RANGE, NOW, 600, DELTA, PAST_GOOD, 3600, 0.9)
    first, second = prediction.slices
    # A point belongs to the slice its time falls in, as a sample would.
    assert (first.start, first.end, first.probability) == (NOW + 300, NOW + 360, 0.0)
    assert (second.start, second.end, second.probability) == (
        NOW + 600,
        NOW + 660,
        1.0,
    )
    # The window ending at NOW + 360 keeps 54 past slices plus one future slice,
    # the one ending at NOW + 660 keeps 49 past ones plus both future ones.
    assert first.projected_budget_remaining == pytest.approx(1.0)
    assert second.projected_budget_remaining == pytest.approx(1 - 1 / (0.1 * 51))
    assert prediction.eta == second


def test_the_worst_point_of_a_slice_stands_for_it() -> None:
    points = [
        point(NOW + 20, 50.0, 1.0),
        point(NOW + 40, 99.0, 1.0),
        point(NOW + 59, 60.0, 1.0),
    ]
    (only,) = predict(points, RANGE, NOW, 59, DELTA, (), 3600, 0.9).slices
    assert only.start == NOW
    assert only.mean == 99.0
    assert only.probability == pytest.approx(reference_probability(99.0, 1.0, RANGE))


def test_points_at_or_before_now_and_beyond_the_horizon_are_ignored() -> None:
    points = [
        point(NOW - 60, 500.0, 0.0),
        point(NOW, 500.0, 0.0),
        point(NOW + 60, 50.0, 0.0),
        point(NOW + 61, 500.0, 0.0),
    ]
    prediction = predict(points, RANGE, NOW, 60, DELTA, PAST_GOOD, 3600, 0.9)
    # NOW + 60 is the horizon's last instant and the start of the next slice.
    assert [(s.start, s.probability) for s in prediction.slices] == [(NOW + 60, 0.0)]


def test_an_empty_forecast_predicts_nothing() -> None:
    prediction = predict([], RANGE, NOW, 600, DELTA, PAST_GOOD, 3600, 0.9)
    assert prediction == Prediction(slices=())
    assert prediction.eta is None
    assert prediction.projected_budget_remaining is None
    assert prediction.expected_bad_slices == 0.0


def test_no_measured_slice_leaves_the_projected_budget_unknown() -> None:
    slices = (
        PredictedSlice(
            start=NOW,
            end=NOW + 60,
            probability=0.2,
            mean=1.0,
            lower=0.0,
            upper=2.0,
            side=Side.ABOVE,
            projected_budget_remaining=None,
        ),
    )
    prediction = Prediction(slices=slices)
    assert prediction.breach_at is None
    assert prediction.eta is None


# --- status ------------------------------------------------------------------------


def report_of(pattern: str) -> WindowReport:
    return evaluate_window(make_slices(pattern), RANGE, 0.9, DELTA)


def test_status_order_of_precedence() -> None:
    risky = predict([point(NOW + 60, 150.0, 0.0)], RANGE, NOW, 60, DELTA, (), 3600, 0.9)
    assert objective_status(report_of("g" * 10), None) is Status.OK
    assert objective_status(report_of("g" * 10), risky) is Status.AT_RISK
    assert objective_status(report_of("g" * 8 + "^^"), risky) is Status.VIOLATING
    assert objective_status(report_of("^^" + "." * 8), risky) is (
        Status.INSUFFICIENT_DATA
    )


def test_worst_status_ranks_violating_first() -> None:
    assert worst_status([]) is Status.OK
    assert worst_status([Status.OK, Status.INSUFFICIENT_DATA]) is (
        Status.INSUFFICIENT_DATA
    )
    assert (
        worst_status([Status.INSUFFICIENT_DATA, Status.AT_RISK, Status.OK])
        is Status.AT_RISK
    )
    assert worst_status(iter([Status.AT_RISK, Status.VIOLATING])) is Status.VIOLATING
