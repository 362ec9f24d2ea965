"""The contract every ResultPublisher honours."""

import pytest

from monitoring_core.ports import Result, ResultPublisher
from monitoring_core.series import SeriesKey
from tests.support import factories

Delivered = list[tuple[str, str]]
"""What arrived: (key, result type) in arrival order."""


def results_for(count: int) -> list[Result]:
    """Window stats of ``count`` series, each twice, then a run record."""
    out: list[Result] = []
    for i in range(count):
        key = SeriesKey.of("m", {"i": str(i)})
        stats = factories.window_stats()
        out += [
            type(stats)(series=key, kind=stats.kind, at=stats.at, windows=stats.windows)
        ] * 2
    return [*out, factories.etl_run()]


class ResultPublisherContract:
    """Subclasses provide ``publisher`` and ``delivered``."""

    @pytest.fixture
    def publisher(self) -> ResultPublisher:
        raise NotImplementedError

    def delivered(self, publisher: ResultPublisher) -> Delivered:
        raise NotImplementedError

    def test_every_result_arrives_exactly_once(
        self, publisher: ResultPublisher
    ) -> None:
        publisher.publish(results_for(50))
        assert publisher.flush(30) == 0
        arrived = self.delivered(publisher)
        assert len(arrived) == 101
        series_keys = {k for k, t in arrived if t == "window_stats"}
        assert series_keys == {SeriesKey.of("m", {"i": str(i)}).id for i in range(50)}
        assert ("abc", "etl_run") in arrived

    def test_results_of_one_series_keep_their_order(
        self, publisher: ResultPublisher
    ) -> None:
        first, second = factories.forecast(), factories.score()
        publisher.publish([first, second, factories.metadata()])
        publisher.flush(30)
        mine = [t for k, t in self.delivered(publisher) if k == factories.KEY.id]
        assert mine == ["forecast", "forecast_score", "metadata"]

    def test_flush_with_nothing_published_returns_at_once(
        self, publisher: ResultPublisher
    ) -> None:
        assert publisher.flush(5) == 0
