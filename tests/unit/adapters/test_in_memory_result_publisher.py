"""The in-memory bus passes the ResultPublisher contract and refuses beyond capacity."""

import pytest

from adapters.in_memory.result_publisher import InMemoryResultPublisher
from monitoring_core.errors import PublishError
from monitoring_core.ports import ResultPublisher
from monitoring_core.runs import EtlRun
from tests.contracts.result_publisher_contract import (
    Delivered,
    ResultPublisherContract,
    results_for,
)


class TestInMemoryResultPublisher(ResultPublisherContract):
    @pytest.fixture
    def publisher(self) -> ResultPublisher:
        return InMemoryResultPublisher()

    def delivered(self, publisher: ResultPublisher) -> Delivered:
        assert isinstance(publisher, InMemoryResultPublisher)
        names = {
            "SeriesWindowStats": "window_stats",
            "Forecast": "forecast",
            "ForecastScore": "forecast_score",
            "SeriesMetadata": "metadata",
            "EtlRun": "etl_run",
        }
        return [
            (
                r.run_id if isinstance(r, EtlRun) else r.series.id,
                names[type(r).__name__],
            )
            for r in publisher.results
        ]


def test_a_full_bus_says_how_many_results_it_refused() -> None:
    bus = InMemoryResultPublisher(capacity=10)
    seen: list[int] = []
    bus.subscribe(lambda batch: seen.append(len(batch)))
    with pytest.raises(PublishError, match="11 of 21 results not accepted"):
        bus.publish(results_for(10))
    assert len(bus.results) == 10 and seen == [10]
    assert len(bus.drain()) == 10 and bus.results == []
