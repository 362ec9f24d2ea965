"""The SLA manager's use cases on in-memory adapters and the real forecaster.

Predictions are made from forecasts of the project's own forecaster, fitted on
synthetic series whose crossing time is known, so the ETA can be checked
against the truth rather than against itself.
"""

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.forecasting.ets import VectorizedEtsForecaster
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.prediction_log import InMemoryPredictionLog
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from monitoring_core.errors import InvalidSla, SlaNotFound
from monitoring_core.prediction_scores import PredictionScore
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_predictions import SeriesPrediction, SlaReport
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from monitoring_core.slo import Status
from monitoring_core.slo.predictions import ETA_THRESHOLD
from tests.support.sla_services import sla_services

START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC).timestamp()
CROSSING = START + 6 * 3600  # the trending series reaches HI exactly here
HI = 0.9
SLOPE = (HI - 0.5) / (6 * 3600)  # from 0.5 at START to HI at CROSSING
TRENDING = SeriesKey.of("disk_used_ratio", {"host": "a"})
CALM = SeriesKey.of("disk_used_ratio", {"host": "b"})
OTHER = SeriesKey.of("disk_used_ratio", {"host": "a2"})


def _samples(value: Callable[[float], float], seed: int) -> list[tuple[float, float]]:
    noise = random.Random(seed)
    return [
        (START + i * 15, value(START + i * 15) + noise.gauss(0, 0.001))
        for i in range(7 * 240)
    ]


class World:
    def __init__(self) -> None:
        self.clock = FixedClock(datetime.fromtimestamp(CROSSING - 1800, UTC))
        self.source = InMemoryMetricSource()
        self.source.add(TRENDING, _samples(lambda t: 0.5 + SLOPE * (t - START), 1))
        self.source.add(CALM, _samples(lambda t: 0.3, 2))
        self.source.add(OTHER, _samples(lambda t: 5.0, 3))  # never selected
        self.store = InMemoryResultStore()
        self.predictions = InMemoryPredictionLog()
        self.manager = sla_services(
            repository=InMemorySlaRepository(self.clock),
            source=self.source,
            samples=self.source,
            forecasts=self.store,
            clock=self.clock,
            predictions=self.predictions,
        )
        objectives = tuple(
            ObjectiveDraft(
                selector=f'disk_used_ratio{{host="{host}"}}',
                hi=HI,
                target=0.99,
                window="1h",
            )
            for host in ("a", "b")
        )
        self.manager.definitions.apply(SlaDraft(name="disks", objectives=objectives))

    def forecast_at(self, when: float) -> SlaReport:
        """Move the clock, forecast like the ETL does, store, and predict."""
        at = datetime.fromtimestamp(when, UTC)
        self.clock.advance(when - self.clock.now().timestamp())
        infos = self.source.discover(
            self.manager.definitions.forecast_targets(), at - timedelta(hours=1), at
        )
        histories = self.source.history(infos, at - timedelta(hours=6), at, 60)
        forecasts = VectorizedEtsForecaster().forecast(histories, 10, at, {})
        self.store.write(forecasts)
        return self.manager.predictions.predict("disks", 600)


@pytest.fixture
def world() -> World:
    return World()


def _series(report: SlaReport, key: SeriesKey) -> SeriesPrediction:
    (found,) = [s for o in report.objectives for s in o.series if s.series == key]
    return found


def test_the_eta_comes_closer_and_surer_as_the_series_trends_out(
    world: World,
) -> None:
    far = _series(world.forecast_at(CROSSING - 1800), TRENDING)
    assert far.prediction is not None and far.prediction.eta is None
    assert far.status is Status.OK

    # Eight minutes before, the tail probability is rising, and a bad slice
    # somewhere within the horizon is at least as likely as any single one.
    near = _series(world.forecast_at(CROSSING - 8 * 60), TRENDING).prediction
    assert near is not None
    assert max(p.probability for p in near.slices) > 0.1
    assert near.within_horizon >= max(p.probability for p in near.slices)

    left, expected = [], [near.expected_bad_slices]
    for minutes_before in (5, 2):
        found = _series(world.forecast_at(CROSSING - minutes_before * 60), TRENDING)
        prediction = found.prediction
        assert prediction is not None and prediction.eta is not None
        # The true crossing is at CROSSING; the ETA slice is within two slices.
        assert abs(prediction.eta.start - CROSSING) <= 120
        assert prediction.eta.cumulative_probability >= ETA_THRESHOLD
        left.append(prediction.eta.start - world.clock.now().timestamp())
        expected.append(prediction.expected_bad_slices)
        assert found.status is Status.AT_RISK
    assert left[0] > left[1]  # less and less time left
    assert expected == sorted(expected) and expected[-1] > expected[0] + 2


def test_a_predicted_breach_needs_the_projected_budget_below_zero(
    world: World,
) -> None:
    found = _series(world.forecast_at(CROSSING - 5 * 60), TRENDING)
    prediction = found.prediction
    assert prediction is not None
    # 1 % of a 1 h window is 0.6 slices: a few bad slices exhaust it.
    assert prediction.breach_predicted
    assert prediction.breach_at is not None and prediction.eta is not None
    assert prediction.breach_at >= prediction.eta.start
    assert prediction.projected_budget_remaining is not None
    assert prediction.projected_budget_remaining < 0
    assert found.compliance.budget_remaining == pytest.approx(1.0)


def test_a_calm_series_has_no_predicted_violation(world: World) -> None:
    for when in (CROSSING - 1800, CROSSING - 300):
        found = _series(world.forecast_at(when), CALM)
        prediction = found.prediction
        assert prediction is not None and len(prediction.slices) == 10
        assert prediction.eta is None and not prediction.breach_predicted
        assert prediction.expected_bad_slices < 1e-6
        assert found.status is Status.OK


def test_only_exactly_matched_series_are_judged(world: World) -> None:
    report = world.forecast_at(CROSSING - 300)
    judged = {s.series for o in report.objectives for s in o.series}
    assert judged == {TRENDING, CALM}


def test_without_a_forecast_the_status_rests_on_the_past(world: World) -> None:
    report = world.manager.predictions.predict("disks", 600)
    found = _series(report, CALM)
    assert found.prediction is None and found.forecast_made_at is None
    assert found.status is Status.OK


def test_violations_after_the_crossing_form_one_open_episode(world: World) -> None:
    world.clock.advance(1800 + 600)  # ten minutes after the crossing
    (objective, calm) = world.manager.judgement.violations("disks", (3600,))
    (window,) = objective.windows
    (series,) = window.series
    report = series.report
    assert report.above_slices == pytest.approx(10, abs=1)
    (episode,) = report.episodes
    assert episode.open and abs(episode.start - CROSSING) <= 60
    assert report.breached
    assert calm.windows[0].series[0].report.bad_slices == 0


def test_selectors_matching_nothing_are_refused_unless_pending(world: World) -> None:
    lost = ObjectiveDraft(
        selector='disk_used_ratio{host="zz"}', hi=1, target=0.9, window="1h"
    )
    with pytest.raises(InvalidSla) as caught:
        world.manager.definitions.apply(SlaDraft(name="lost", objectives=(lost,)))
    assert "objectives[0].selector" in caught.value.fields
    with pytest.raises(SlaNotFound):
        world.manager.definitions.get("lost")
    pending = ObjectiveDraft(
        selector='disk_used_ratio{host="zz"}',
        hi=1,
        target=0.9,
        window="1h",
        allow_pending=True,
    )
    sla, changed = world.manager.definitions.apply(
        SlaDraft(name="lost", objectives=(pending,))
    )
    assert changed and sla.version == 1
    report = world.manager.predictions.predict("lost", 600)
    assert report.status is Status.INSUFFICIENT_DATA


def test_the_forecast_targets_are_every_objective_selector(world: World) -> None:
    assert sorted(
        s.to_promql() for s in world.manager.definitions.forecast_targets()
    ) == [
        'disk_used_ratio{host="a"}',
        'disk_used_ratio{host="b"}',
    ]


def test_predictions_are_recorded_and_scored_once_due(world: World) -> None:
    world.forecast_at(CROSSING - 5 * 60)  # recorded: an ETA near CROSSING
    made = world.clock.now()
    assert world.manager.predictions.score("disks") == [
        (0, PredictionScore()),
        (1, PredictionScore()),
    ]  # nothing due yet: the horizon has not passed
    world.clock.advance(15 * 60)
    recorded = world.predictions.between("disks", made, world.clock.now())
    assert {r.series for r in recorded} == {TRENDING, CALM}
    (trending_score, calm_score) = (
        s for _, s in world.manager.predictions.score("disks")
    )
    # The trending series crosses HI five minutes in. The predicted slices are
    # minutes 1 to 10 (a point belongs to the slice its time falls in, as a
    # sample does), so the last six are excursions, and the one before may be
    # too (the noise, 0.001, exceeds the last minute's rise before the
    # crossing, 0.0011); the forecast said so for most of them.
    assert trending_score.predictions == 1 and trending_score.slices_compared == 10
    assert trending_score.bad in (6, 7)
    assert trending_score.true_positives >= 4 and trending_score.precision == 1.0
    assert trending_score.brier is not None and trending_score.brier < 0.1
    assert calm_score.bad == 0 and calm_score.predicted_bad == 0
    assert calm_score.brier is not None and calm_score.brier < 1e-6
    # Every one of a slice's four samples must lie inside the 95 % interval:
    # about 0.95 ** 4 = 0.81 of the slices for a calibrated forecast.
    assert calm_score.interval_coverage is not None
    assert calm_score.interval_coverage >= 0.6


def test_a_preview_predicts_the_same_without_recording(world: World) -> None:
    predicted = world.forecast_at(CROSSING - 5 * 60)  # records one per series
    made = world.clock.now()
    preview = world.manager.predictions.preview("disks", 600)
    assert preview == predicted
    only = world.manager.predictions.preview("disks", 600, objective=1)
    assert [o.index for o in only.objectives] == [1]
    assert only.objectives[0] == predicted.objectives[1]
    recorded = world.predictions.between("disks", made, made + timedelta(hours=1))
    assert len(recorded) == 2  # the two of predict, none of the previews
    with pytest.raises(SlaNotFound):
        world.manager.predictions.preview("disks", 600, objective=2)
