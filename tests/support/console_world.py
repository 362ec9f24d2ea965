"""The web console over in-memory adapters: SLAs, series results and ETL runs.

Built on ``StateWorld`` (an SLA ``temps`` over ``temp{host="a"}`` and
``temp{host="b"}`` with hand-placed bad slices and a forecast far above the
range), plus 12 hours of window statistics of series a every 10 minutes, its
metadata and forecast score, and a few ETL cycles, all before ``NOW``; and
the alerts a Prometheus would hold for ``temps`` (one firing, one pending).
"""

import math
from datetime import UTC, datetime, timedelta

import attrs

from adapters.in_memory.alert_states import InMemoryAlertStates
from adapters.rest.api import App, create_app
from adapters.rest.ui.alert_views import ConsoleAlerts
from monitoring_core.forecasts import ForecastScore
from monitoring_core.metadata import (
    Seasonality,
    SeriesMetadata,
    Stationarity,
    StationarityTest,
)
from monitoring_core.runs import EtlRun, Step, StepTiming
from monitoring_core.series import MetricKind
from monitoring_core.services.sla_console import SlaConsoleQueries
from monitoring_core.windows import SeriesWindowStats, WindowStats
from tests.support.sla_state_world import NOW, A, StateWorld

AT = datetime.fromtimestamp(NOW, UTC)


def window_stats(at: datetime, level: float) -> SeriesWindowStats:
    """Series a's 1h and 3h statistics evaluated at ``at``."""
    windows = tuple(
        WindowStats(
            window_seconds=seconds,
            count=seconds // 15,
            min=level - 5,
            max=level + 5 + seconds / 3600,
            avg=level + seconds / 7200,
            stddev=2.0,
            last=level,
            last_timestamp=at.timestamp() - 3,
        )
        for seconds in (3600, 10800)
    )
    return SeriesWindowStats(series=A, kind=MetricKind.GAUGE, at=at, windows=windows)


def etl_run(number: int, at: datetime, series: int) -> EtlRun:
    """A cycle whose phases grow with ``number``; every fourth fails to publish."""
    steps = (
        StepTiming(step=Step.DISCOVERY, seconds=0.05 + 0.01 * number),
        StepTiming(step=Step.WINDOW_STATS, seconds=0.4 + 0.02 * number),
        StepTiming(step=Step.FORECAST, seconds=1.5 + 0.1 * (number % 3)),
        StepTiming(
            step=Step.PUBLISH,
            seconds=0.1,
            error="broker away" if number % 4 == 3 else None,
        ),
    )
    return EtlRun(
        run_id=f"run-{number}",
        started_at=at,
        finished_at=at + timedelta(seconds=2.5),
        ok=number % 4 != 3,
        steps=steps,
        series_count=series,
        results_published=series * 3,
    )


class ConsoleWorld(StateWorld):
    """``StateWorld`` with series results and ETL runs, and its console app."""

    def __init__(self) -> None:
        super().__init__(series_cap=10)
        results: list[object] = [
            window_stats(AT - timedelta(minutes=10 * k), 50 + 10 * math.sin(k / 6))
            for k in range(72, -1, -1)
        ]
        results.append(
            SeriesMetadata(
                series=A,
                computed_at=AT - timedelta(hours=1),
                lookback_seconds=86400,
                step_seconds=300,
                sample_count=288,
                stationarity=Stationarity.STATIONARY,
                adf=StationarityTest(statistic=-4.2, p_value=0.001, stationary=True),
                kpss=StationarityTest(statistic=0.1, p_value=0.1, stationary=True),
                acf=tuple(math.cos(k / 2) * math.exp(-k / 10) for k in range(25)),
                acf_significant_lags=(1, 2, 12),
                seasonality=Seasonality(period_seconds=3600, strength=0.7),
            )
        )
        results += [  # the latest, and two older ones for the score history
            ForecastScore(
                series=A,
                forecast_made_at=AT - timedelta(minutes=20 + 60 * k),
                scored_at=AT - timedelta(minutes=5 + 60 * k),
                model="test",
                points_compared=10,
                mae=1.5 + k,
                coverage_80=0.8,
                coverage_95=0.9,
            )
            for k in (2, 1, 0)
        ]
        results += [
            etl_run(n, AT - timedelta(minutes=2 * (12 - n)), 500 + n) for n in range(12)
        ]
        self.store.write(results)  # type: ignore[arg-type]
        self.state.refresh()
        self.use_cases: SlaConsoleQueries | None = SlaConsoleQueries(
            self.state,
            self.services.definitions,
            self.services.judgement,
            self.services.predictions,
            self.clock,
        )
        self.alerts = InMemoryAlertStates(self.clock)
        labels = {"sla": "temps", "objective": "0"}
        self.alerts.hold(
            "SLOBurnRatePage",
            {**labels, "severity": "page"},
            since=AT - timedelta(minutes=25),
            value=42.0,
            annotations={"summary": "SLA temps, objective 0: the budget burns fast"},
        )
        self.alerts.hold(
            "SLOPredictedBreach",
            {**labels, "severity": "ticket"},
            since=AT - timedelta(minutes=2),
            value=0.83,
            for_seconds=300,
        )

    def app(
        self,
        token: str | None = None,
        refresh_seconds: int = 30,
        prometheus: str | None = None,
    ) -> App:
        """The REST API with the console over this world; with ``prometheus``
        (its URL, for the link), the console shows ``alerts``."""
        alerts = (
            ConsoleAlerts(self.alerts, f"{prometheus}/alerts") if prometheus else None
        )
        return create_app(
            self.store,
            self.clock,
            token,
            sla=self.use_cases,
            refresh_seconds=refresh_seconds,
            alerts=alerts,
        )

    def add_run(self, number: int, series: int) -> EtlRun:
        """Record one more ETL cycle, started at ``NOW``."""
        run = attrs.evolve(etl_run(number, AT, series), run_id=f"run-{number}")
        self.store.write([run])
        return run
