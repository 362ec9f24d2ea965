"""What every PredictionLog must do: keep, replace, and find by SLA and time."""

from datetime import UTC, datetime

import pytest

from monitoring_core.errors import StoreUnavailable
from monitoring_core.ports import PredictionLog
from monitoring_core.prediction_scores import PredictionRecord
from monitoring_core.series import SeriesKey
from monitoring_core.slo import PredictedSlice, Side

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC).timestamp()


def record(
    minute: int, sla: str = "web", objective: int = 0, p: float = 0.25
) -> PredictionRecord:
    start = T0 + 60 * minute
    return PredictionRecord(
        sla=sla,
        objective=objective,
        series=SeriesKey.of("node_load1", {"instance": "db-1:9100", "job": "node"}),
        made_at=start,
        slice_seconds=60,
        slices=tuple(
            PredictedSlice(
                start=start + 60 * k,
                end=start + 60 * (k + 1),
                probability=p,
                mean=3.5,
                lower=1.25,
                upper=5.75,
                side=Side.ABOVE if k else None,
                projected_budget_remaining=None if k else -0.5,
            )
            for k in range(3)
        ),
    )


def at(minute: int) -> datetime:
    return datetime.fromtimestamp(T0 + 60 * minute, UTC)


class PredictionLogContract:
    """Subclasses provide ``log`` (empty) and ``broken``."""

    def test_records_come_back_whole_by_sla_and_time(self, log: PredictionLog) -> None:
        log.record([record(0), record(1), record(1, sla="other"), record(2)])
        assert log.between("web", at(0), at(2)) == [record(0), record(1)]
        assert log.between("other", at(0), at(10)) == [record(1, sla="other")]
        assert log.between("web", at(3), at(10)) == []

    def test_the_same_prediction_again_replaces_the_first(
        self, log: PredictionLog
    ) -> None:
        log.record([record(0, p=0.1)])
        log.record([record(0, p=0.9), record(0, objective=1)])
        assert log.between("web", at(0), at(1)) == [
            record(0, p=0.9),
            record(0, objective=1),
        ]

    def test_nothing_to_record_is_fine(self, log: PredictionLog) -> None:
        log.record([])
        assert log.between("web", at(-60), at(60)) == []

    def test_an_unreachable_log_raises_store_unavailable(
        self, broken: PredictionLog
    ) -> None:
        with pytest.raises(StoreUnavailable):
            broken.record([record(0)])
        with pytest.raises(StoreUnavailable):
            broken.between("web", at(0), at(1))
