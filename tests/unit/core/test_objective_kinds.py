"""An objective kind other than the allowed range runs through the unchanged maths.

``MeanCeiling`` below judges a slice on the mean of its samples, which the range
objective never does: slices, episodes, the window report and predictions take
it through the ``ObjectiveKind`` protocol alone (ADR 0025). Expected figures are
read off how the samples were built, probabilities off ``statistics.NormalDist``.
"""

import math
from statistics import NormalDist

import attrs

from monitoring_core.forecasts import ForecastPoint
from monitoring_core.slo import (
    AllowedRange,
    ObjectiveKind,
    SampleStats,
    Side,
    SliceState,
    evaluate_window,
    predict,
    slice_samples,
)


@attrs.frozen
class MeanCeiling:
    """Good while a slice's mean stays at or under the ceiling."""

    ceiling: float

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return None, self.ceiling

    def judge(self, stats: SampleStats) -> SliceState:
        return SliceState.ABOVE if stats.mean > self.ceiling else SliceState.GOOD

    def distance(self, value: float) -> float:
        return max(0.0, value - self.ceiling)


KIND: ObjectiveKind = MeanCeiling(4.0)
RANGE: ObjectiveKind = AllowedRange(hi=4.0)
# Five 1-minute slices. Means: 5, 3.75, (none), 6, 2 (the NaN is no sample).
SAMPLES = [
    (0.0, 1.0),
    (30.0, 9.0),
    (60.0, 3.0),
    (90.0, 4.5),
    (200.0, 6.0),
    (250.0, 2.0),
    (260.0, math.nan),
]


def test_slices_are_judged_by_the_kind_on_their_mean() -> None:
    states = [s.state for s in slice_samples(SAMPLES, 0.0, 300.0, 60, KIND)]
    assert states == ["above", "good", "unmeasured", "above", "good"]
    # The range judges the same samples on their maximum: 4.5 > 4 is above.
    ranged = [s.state for s in slice_samples(SAMPLES, 0.0, 300.0, 60, RANGE)]
    assert ranged == ["above", "above", "unmeasured", "above", "good"]


def test_episodes_and_budget_of_another_kind() -> None:
    slices = slice_samples(SAMPLES, 0.0, 300.0, 60, KIND)
    report = evaluate_window(slices, KIND, target=0.5, slice_seconds=60)
    assert (report.good_slices, report.above_slices, report.unmeasured_slices) == (
        2,
        2,
        1,
    )
    assert report.sli == 0.5  # 2 good of 4 measured
    assert report.budget_remaining == 0.0  # budget (1 - 0.5) · 4 = 2, both spent
    first, second = report.episodes
    # An above episode's worst value is its slice's maximum: 9, 5 over the ceiling.
    assert (first.start, first.end, first.worst_value, first.worst_distance) == (
        0.0,
        60.0,
        9.0,
        5.0,
    )
    assert (second.start, second.open, second.worst_distance) == (180.0, False, 2.0)


def test_predictions_use_the_kinds_bounds() -> None:
    point = ForecastPoint(
        timestamp=360.0,
        mean=5.0,
        lower_80=3.5,
        upper_80=6.5,
        lower_95=3.0,
        upper_95=7.0,
    )
    past = slice_samples(SAMPLES, 0.0, 300.0, 60, KIND)
    prediction = predict(
        [point],
        KIND,
        now=300.0,
        horizon_seconds=120,
        slice_seconds=60,
        past=past,
        window_seconds=300,
        target=0.5,
    )
    (future,) = prediction.slices
    sigma = (7.0 - 3.0) / (2 * NormalDist().inv_cdf(0.975))
    expected = 1.0 - NormalDist(5.0, sigma).cdf(4.0)
    assert math.isclose(future.probability, expected, rel_tol=1e-9)
    assert future.side is Side.ABOVE
    assert (future.start, future.end) == (360.0, 420.0)  # the slice holding t = 360
