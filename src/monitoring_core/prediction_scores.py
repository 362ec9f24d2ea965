"""Scoring stored predictions against what then happened.

Every prediction the SLA manager makes is recorded (:class:`PredictionRecord`).
Once its horizon has passed, each predicted slice is compared with the slice
that was then measured:

- a slice is *predicted bad* when its probability is at least 0.5 (the ETA
  rule), and *bad* when it was an excursion; unmeasured slices are not compared;
- **precision** = predicted bad that were bad / predicted bad, **recall** =
  predicted bad that were bad / bad;
- the **Brier score** is the mean of ``(p − y)²`` with ``y`` = 1 for a bad
  slice: 0 is perfect, 0.25 is what always saying 0.5 earns;
- **interval coverage** is the share of slices whose every sample stayed within
  the slice's 95 % interval (stricter than point coverage: a slice holds several
  samples).
"""

import math
from collections.abc import Iterable, Sequence

import attrs

from monitoring_core.series import SeriesKey
from monitoring_core.slo import PredictedSlice, Slice, SliceState

PREDICTED_BAD = 0.5


@attrs.frozen(kw_only=True)
class PredictionRecord:
    """One series' prediction as it was made.

    Attributes:
        sla: the SLA's name.
        objective: the objective's index in the SLA.
        series: which series.
        made_at: the start of the first predicted slice (Unix time).
        slice_seconds: the slice length.
        slices: the predicted slices, oldest first.
    """

    sla: str
    objective: int
    series: SeriesKey
    made_at: float
    slice_seconds: int
    slices: tuple[PredictedSlice, ...]

    @property
    def until(self) -> float:
        """The end of the last predicted slice."""
        return self.slices[-1].end if self.slices else self.made_at


@attrs.frozen(kw_only=True)
class PredictionScore:
    """How a set of predictions fared.

    Attributes:
        predictions: records scored.
        slices_compared: predicted slices that were then measured.
        predicted_bad: compared slices with probability >= 0.5.
        bad: compared slices that were excursions.
        true_positives: both.
        brier: mean squared error of the probabilities, None with no slice.
        interval_coverage: share of slices inside their 95 % interval.
    """

    predictions: int = 0
    slices_compared: int = 0
    predicted_bad: int = 0
    bad: int = 0
    true_positives: int = 0
    brier: float | None = None
    interval_coverage: float | None = None

    @property
    def precision(self) -> float | None:
        """Share of predicted excursions that happened; None if none predicted."""
        return self.true_positives / self.predicted_bad if self.predicted_bad else None

    @property
    def recall(self) -> float | None:
        """Share of excursions that were predicted; None if none happened."""
        return self.true_positives / self.bad if self.bad else None


def _inside(predicted: PredictedSlice, actual: Slice) -> bool:
    assert actual.minimum is not None and actual.maximum is not None
    return predicted.lower <= actual.minimum and actual.maximum <= predicted.upper


def score_predictions(
    scored: Iterable[tuple[PredictionRecord, Sequence[Slice]]],
) -> PredictionScore:
    """Compare each record with the slices measured over its horizon.

    Args:
        scored: records with the actual slices covering their predicted ones
            (matched by start time; predicted slices without a measured
            counterpart are skipped).
    """
    records = compared = predicted_bad = bad = hits = inside = 0
    squared: list[float] = []
    for record, actual in scored:
        records += 1
        by_start = {s.start: s for s in actual}
        for predicted in record.slices:
            measured = by_start.get(predicted.start)
            if measured is None or measured.state is SliceState.UNMEASURED:
                continue
            compared += 1
            was_bad = measured.state is not SliceState.GOOD
            said_bad = predicted.probability >= PREDICTED_BAD
            bad += was_bad
            predicted_bad += said_bad
            hits += was_bad and said_bad
            inside += _inside(predicted, measured)
            squared.append((predicted.probability - float(was_bad)) ** 2)
    return PredictionScore(
        predictions=records,
        slices_compared=compared,
        predicted_bad=predicted_bad,
        bad=bad,
        true_positives=hits,
        brier=math.fsum(squared) / compared if compared else None,
        interval_coverage=inside / compared if compared else None,
    )
