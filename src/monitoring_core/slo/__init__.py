"""Time-slice SLO mathematics: slices, violation episodes, budgets and predictions.

Vocabulary (kept apart on purpose):

* **excursion**: one bad slice, ``above`` (judged on the slice's maximum) or
  ``below`` (judged on its minimum) the allowed range.
* **violation episode**: a maximal run of bad slices of the same side.
* **SLO breach**: the SLI (good / measured slices) fell below the target over the
  window, i.e. the error budget is exhausted.

One module per concept: :mod:`.kinds` (the objective kind every other module
depends on), :mod:`.ranges` (the range objective, one kind), :mod:`.slices`,
:mod:`.episodes`, :mod:`.window` (window report: SLI, budget, burn rate),
:mod:`.probabilities` and :mod:`.predictions`, :mod:`.status`. Each module's
docstring holds its rules. The public names are re-exported here.
"""

from monitoring_core.slo.episodes import Episode, find_episodes
from monitoring_core.slo.kinds import ObjectiveKind, SampleStats, Side, SliceState
from monitoring_core.slo.predictions import PredictedSlice, Prediction, predict
from monitoring_core.slo.ranges import AllowedRange
from monitoring_core.slo.slices import (
    SeriesSliceStats,
    Slice,
    judge_slices,
    slice_samples,
    slice_stats,
)
from monitoring_core.slo.status import Status, objective_status, worst_status
from monitoring_core.slo.window import WindowReport, evaluate_window

__all__ = [
    "AllowedRange",
    "Episode",
    "ObjectiveKind",
    "PredictedSlice",
    "Prediction",
    "SampleStats",
    "SeriesSliceStats",
    "Side",
    "Slice",
    "SliceState",
    "Status",
    "WindowReport",
    "evaluate_window",
    "find_episodes",
    "judge_slices",
    "objective_status",
    "predict",
    "slice_samples",
    "slice_stats",
    "worst_status",
]
