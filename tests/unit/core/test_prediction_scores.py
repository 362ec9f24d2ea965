"""Scoring predictions against the slices that were then measured, by hand."""

import pytest

from monitoring_core.prediction_scores import PredictionRecord, score_predictions
from monitoring_core.series import SeriesKey
from monitoring_core.slo import PredictedSlice, Side, Slice, SliceState

KEY = SeriesKey.of("up", {"job": "node"})


def predicted(
    start: int, p: float, lower: float = 0.0, upper: float = 10.0
) -> PredictedSlice:
    return PredictedSlice(
        start=start,
        end=start + 60,
        probability=p,
        mean=(lower + upper) / 2,
        lower=lower,
        upper=upper,
        side=Side.ABOVE if p else None,
        projected_budget_remaining=None,
    )


def actual(start: int, state: SliceState, lo: float = 1.0, hi: float = 2.0) -> Slice:
    measured = state is not SliceState.UNMEASURED
    return Slice(
        start=start,
        end=start + 60,
        state=state,
        minimum=lo if measured else None,
        maximum=hi if measured else None,
        samples=4 if measured else 0,
    )


def test_precision_recall_brier_and_coverage_by_hand() -> None:
    record = PredictionRecord(
        sla="s",
        objective=0,
        series=KEY,
        made_at=0,
        slice_seconds=60,
        slices=(
            predicted(0, 0.9),  # said bad, was bad
            predicted(60, 0.7),  # said bad, was good
            predicted(120, 0.2),  # said good, was bad
            predicted(180, 0.0),  # said good, was good
            predicted(240, 0.6, upper=1.5),  # said bad, was bad; max 2 > upper 1.5
            predicted(300, 0.99),  # unmeasured: not compared
        ),
    )
    measured = [
        actual(0, SliceState.ABOVE),
        actual(60, SliceState.GOOD),
        actual(120, SliceState.BELOW),
        actual(180, SliceState.GOOD),
        actual(240, SliceState.ABOVE),
        actual(300, SliceState.UNMEASURED),
    ]
    score = score_predictions([(record, measured)])
    assert (score.predictions, score.slices_compared) == (1, 5)
    assert (score.predicted_bad, score.bad, score.true_positives) == (3, 3, 2)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    brier = ((0.9 - 1) ** 2 + 0.7**2 + (0.2 - 1) ** 2 + 0 + (0.6 - 1) ** 2) / 5
    assert score.brier == pytest.approx(brier)
    assert score.interval_coverage == pytest.approx(4 / 5)


def test_nothing_to_compare_gives_no_rates() -> None:
    record = PredictionRecord(
        sla="s",
        objective=0,
        series=KEY,
        made_at=0,
        slice_seconds=60,
        slices=(predicted(0, 0.9),),
    )
    score = score_predictions([(record, [])])
    assert score.predictions == 1 and score.slices_compared == 0
    assert score.precision is None and score.recall is None
    assert score.brier is None and score.interval_coverage is None
