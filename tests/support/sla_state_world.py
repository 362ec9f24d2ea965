"""An SLA whose bad slices are placed by hand, for the SLO state on /metrics.

``temp{host="a"}`` and ``temp{host="b"}`` are sampled every 15 s for 13 h and
judged against [20, 80] at 99 % over a 2 h compliance window, 1-minute slices.
Slices are counted back from ``END`` (the end of the last complete slice):
slice ``k`` is ``[END - 60k, END - 60(k - 1))``. Series a is above 80 in slices
10, 20, 30, 90 and 660 and below 20 in slices 40 and 41; series b is always 50.
So, for series a: 1 h has 3 above + 2 below of 60 slices, 2 h adds slice 90
(6 of 120), 3 h adds nothing more in 91..180 (6 of 180), 12 h adds 660 (7 of 720).
Series a's forecast is far above 80 with a tight interval over the next ten
slices (every predicted slice bad); series b has no forecast.
"""

import math
from datetime import UTC, datetime

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.metric_source import InMemoryMetricSource
from adapters.in_memory.prediction_log import InMemoryPredictionLog
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.in_memory.sla_repository import InMemorySlaRepository
from monitoring_core.forecasts import Forecast, ForecastPoint
from monitoring_core.series import SeriesKey
from monitoring_core.services.sla_state import SlaStateService
from monitoring_core.sla import ObjectiveDraft, SlaDraft
from tests.support.sla_services import SlaServices, sla_services

END = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
NOW = END + 25  # 25 s into the slice under way
A = SeriesKey.of("temp", {"host": "a"})
B = SeriesKey.of("temp", {"host": "b"})
ABOVE = (10, 20, 30, 90, 660)
BELOW = (40, 41)


def _value_a(t: float) -> float:
    k = math.ceil((END - t) / 60)  # the slice t falls in, counted back
    if k in ABOVE:
        return 90.0
    if k in BELOW:
        return 10.0
    return 50.0


def _samples(value: object) -> list[tuple[float, float]]:
    start = END - 13 * 3600
    times = [start + 15 * i for i in range(13 * 240)] + [END, END + 15]
    if callable(value):
        return [(t, value(t)) for t in times]
    return [(t, float(value)) for t in times]  # type: ignore[arg-type]


def forecast_far_above() -> Forecast:
    """Ten one-minute points at 200 +- 1 from the slice under way on."""
    points = tuple(
        ForecastPoint(
            timestamp=END + 60 * i + 30,
            mean=200.0,
            lower_80=199.5,
            upper_80=200.5,
            lower_95=199.0,
            upper_95=201.0,
        )
        for i in range(10)
    )
    return Forecast(
        series=A,
        made_at=datetime.fromtimestamp(END, UTC),
        step_seconds=60,
        model="test",
        holdout_mae=1.0,
        points=points,
    )


def draft(name: str = "temps") -> SlaDraft:
    """The SLA: one objective over both series."""
    return SlaDraft(
        name=name,
        objectives=(
            ObjectiveDraft(selector="temp", lo=20.0, hi=80.0, target=0.99, window="2h"),
        ),
    )


class StateWorld:
    """The SLA manager's use cases on in-memory adapters, and the state service."""

    def __init__(self, series_cap: int = 0) -> None:
        self.clock = FixedClock(datetime.fromtimestamp(NOW, UTC))
        self.source = InMemoryMetricSource()
        self.source.add(A, _samples(_value_a))
        self.source.add(B, _samples(50.0))
        self.store = InMemoryResultStore()
        self.store.write([forecast_far_above()])
        self.log = InMemoryPredictionLog()
        self.services: SlaServices = sla_services(
            repository=InMemorySlaRepository(self.clock),
            source=self.source,
            samples=self.source,
            forecasts=self.store,
            clock=self.clock,
            predictions=self.log,
        )
        self.services.definitions.apply(draft())
        self.state = SlaStateService(
            self.services.definitions,
            self.services.judgement,
            self.services.predictions,
            self.clock,
            series_cap=series_cap,
        )
