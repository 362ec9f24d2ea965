"""The forecast-accuracy benchmark's metrics on small hand-computed examples."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import forecast_accuracy  # noqa: E402
import forecast_metrics as fm  # noqa: E402
import forecast_peers as fp  # noqa: E402

NAN = math.nan


def a(*rows: object) -> fm.Floats:
    return np.array(rows, dtype=np.float64)


def test_avg_rel_mae_is_the_geometric_mean_of_the_finite_positive_ratios() -> None:
    assert fm.geometric_mean(a(0.5, 2.0)) == pytest.approx(1.0)
    assert fm.geometric_mean(a(0.25, 1.0, NAN, 0.0)) == pytest.approx(0.5)
    assert math.isnan(fm.geometric_mean(a(NAN)))


def test_group_means_pool_every_step_of_a_group_and_skip_nan() -> None:
    values = a([1, 3], [5, NAN], [2, 2])
    means = fm.group_means(values, np.array([0, 1, 0]), 3)
    assert means[:2].tolist() == [2.0, 5.0]
    assert math.isnan(means[2])


def test_naive_scale_is_the_in_sample_one_step_naive_mae() -> None:
    # |2-1|, |4-2|, |7-4| -> 2; a NaN drops the pairs it is in.
    assert fm.naive_scale(a([1, 2, 4, 7], [1, NAN, 4, 5])).tolist() == [2.0, 1.0]


def test_mase_divides_the_horizon_mae_by_the_scale() -> None:
    # Errors 1 and 3 -> MAE 2, scale 2 -> 1; a zero scale gives NaN.
    result = fm.mase(a([2, 4], [2, 4]), a([1, 1], [1, 1]), a(2, 0))
    assert result[0] == pytest.approx(1.0)
    assert math.isnan(result[1])


def test_coverage_counts_a_value_on_a_bound_as_inside() -> None:
    hit = fm.inside(a(1, 2, 3, NAN), a(1, 1, 1, 1), a(2, 2, 2, 2))
    assert hit[:3].tolist() == [1.0, 1.0, 0.0]
    assert math.isnan(hit[3])
    assert fm.mean_or_nan(hit) == pytest.approx(2 / 3)


def test_pinball_loss_weights_the_two_sides_by_the_level() -> None:
    # y above the 0.9-quantile costs 0.9 per unit, below it 0.1 per unit.
    loss = fm.pinball(a(10, 6, 10), a(8, 8, 8), 0.9)
    assert loss.tolist() == pytest.approx([1.8, 0.2, 1.8])
    assert fm.pinball(a(10), a(8), 0.1).tolist() == pytest.approx([0.2])


def test_brier_score_and_skill_against_a_reference() -> None:
    score = fm.brier(a(0.2, 0.9), np.array([False, True]))
    assert score == pytest.approx((0.04 + 0.01) / 2)
    assert fm.brier_skill(score, 0.1) == pytest.approx(0.75)
    assert math.isnan(fm.brier_skill(score, 0.0))


def test_precision_recall_f1_and_false_alarm_rate() -> None:
    yes = np.array([True, True, False, False, True])
    event = np.array([True, False, True, False, True])
    c = fm.classify(yes, event)
    assert (c.true_pos, c.false_pos, c.false_neg, c.true_neg) == (2, 1, 1, 1)
    assert c.precision == pytest.approx(2 / 3)
    assert c.recall == pytest.approx(2 / 3)
    assert c.f1 == pytest.approx(2 / 3)
    assert c.false_alarm_rate == pytest.approx(0.5)
    nothing = fm.classify(np.zeros(2, bool), np.array([True, False]))
    assert nothing.f1 == 0.0
    assert math.isnan(nothing.precision)


def test_a_bad_slice_within_the_horizon_is_strictly_outside_the_range() -> None:
    actual = a([5, 10, 10], [5, 11, 0], [NAN, -1, 5], [0, 0, -9])
    lo, hi = a(0, 0, 0, NAN), a(10, 10, 10, 10)
    event, first = fm.bad_within_horizon(actual, lo, hi)
    # Row 0 sits on the upper bound (good); NaN is not bad; row 3 has no lower bound.
    assert event.tolist() == [False, True, True, False]
    assert first.tolist() == [0, 2, 2, 0]


def test_onsets_are_events_whose_last_value_was_inside() -> None:
    last = a(5, 11, 5, NAN, 10)
    event = np.array([True, True, False, True, True])
    result = fm.onsets(last, a(0, 0, 0, 0, 0), a(10, 10, 10, 10, 10), event)
    assert result.tolist() == [True, False, False, False, True]


def test_climatology_rate_counts_the_historys_own_origins() -> None:
    # Origins t = 0, 1, 2 see [0, 5], [5, 0], [0, 0]: two of three turn bad.
    rate = fm.history_event_rate(a([0, 0, 5, 0, 0]), a(-1), a(1), 2)
    assert rate.tolist() == pytest.approx([2 / 3])


def test_eta_error_compares_the_slice_with_the_first_bad_step() -> None:
    errors = fm.eta_errors(
        np.array([0, 3, 5]), np.array([1, 2, 0]), np.array([True, True, False])
    )
    assert errors.tolist() == [0.0, 2.0]


def test_reliability_bins_and_the_worst_gap_of_the_populated_ones() -> None:
    rows = fm.reliability(a(0.05, 0.05, 0.15, 1.0), np.array([0, 1, 1, 1], bool))
    assert [r.count for r in rows] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert rows[0].share == 0.5
    assert rows[0].mean_probability == pytest.approx(0.05)
    assert rows[0].observed == 0.5
    assert rows[9].observed == 1.0  # the last bin holds P = 1
    assert fm.worst_reliability_gap(rows, 0.3) == pytest.approx(0.45)


def test_seasonal_naive_takes_the_value_one_period_back() -> None:
    past = a([1, 2, 3, 4, 5, 6, 7, 8])
    result = fp.seasonal_naive(past, 4, 2, np.array([4]))
    assert result.mean.tolist() == [[5.0, 6.0]]
    # Every seasonal change x[t] - x[t - 4] of the last 4 steps is +4, so the
    # interval (value one period back plus the changes' quantiles) is [9, 9], [10, 10].
    assert result.lower_95.tolist() == [[9.0, 10.0]]
    assert result.upper_80.tolist() == [[9.0, 10.0]]


def test_naive_repeats_the_last_value_with_intervals_from_its_changes() -> None:
    result = fp.naive(a([1, 2, 3, 4, NAN]), 2)
    assert result.mean.tolist() == [[4.0, 4.0]]
    assert result.upper_95.tolist() == [[5.0, 6.0]]  # every h-step change is h


def test_the_script_reports_every_section_on_a_tiny_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data" / "family"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    lines = ["timestamp,value"] + [
        f"2020-01-0{1 + i // 288} {i % 288 // 12:02d}:{i % 12 * 5:02d}:00,"
        f"{10 + 3 * math.sin(i / 20) + rng.normal():.3f}"
        for i in range(450)
    ]
    lines[100] = "2020-01-01 08:15:00,not-a-number"
    (folder / "wave.csv").write_text("\n".join(lines) + "\n")
    (folder / "short.csv").write_text("\n".join(lines[:50]) + "\n")
    forecast_accuracy.main(
        [
            "--data",
            str(tmp_path / "data"),
            "--origins",
            "3",
            "--series-limit",
            "1",
            "--no-baseline",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    report = capsys.readouterr().out
    for section in (
        "skipped family/short: 49 rows < 373",
        "rows re-indexed",
        "### Acceptance (issue 13, items 1-4), engine",
        "### Forecasts, pooled",
        "### Coverage per step ahead",
        "### Predicted window max / min / avg",
        "### Predicted violations, range two-sided [p1, p99]",
        "### Predicted violations, range one-sided x <= p99",
        "### Reliability of P(a bad slice within the horizon)",
        "### Flat series on a bound",
        "| family/wave | 288 | 3 |",
    ):
        assert section in report
    assert (tmp_path / "out" / "forecast_accuracy.npz").exists()
