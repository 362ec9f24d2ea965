"""The ETL use case: one cycle of discovery, statistics, forecasts and publishing."""

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitoring_core.errors import MonitoringError
from monitoring_core.forecasts import Forecast, with_kinds
from monitoring_core.ports import (
    Clock,
    EtlStateStore,
    EtlTelemetry,
    Forecaster,
    ForecastTargets,
    MetricSource,
    Result,
    ResultPublisher,
)
from monitoring_core.runs import EtlRun, Step
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesHistory, SeriesInfo
from monitoring_core.services.forecast_ledger import ForecastLedger, KnownTargets
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings
from monitoring_core.services.steps import StepRecorder
from monitoring_core.value_domains import keep_in_domains

log = logging.getLogger(__name__)
Found = tuple[list[SeriesInfo], list[SeriesInfo]]
DELIVERY_WAIT_SECONDS = 5.0
"""How long a cycle waits, after publishing, for its results' delivery."""


class EtlCycle:
    """Runs cycles; each step's failure is recorded and the cycle goes on.

    Args:
        targets: extra forecast selectors asked for every cycle (the SLA set);
            when it fails, the last answer it gave is used.
        state: where the pending forecasts and the last target set are kept
            across restarts (ADR 0047); None keeps them in memory only.
    """

    def __init__(
        self,
        *,
        source: MetricSource,
        publisher: ResultPublisher,
        forecaster: Forecaster,
        metadata: MetadataJob,
        telemetry: EtlTelemetry,
        clock: Clock,
        settings: EtlSettings,
        targets: ForecastTargets | None = None,
        state: EtlStateStore | None = None,
    ) -> None:
        self._source = source
        self._publisher = publisher
        self._forecaster = forecaster
        self._metadata = metadata
        self._telemetry = telemetry
        self._clock = clock
        self._settings = settings
        self._targets = targets
        self._known = KnownTargets(state if targets is not None else None)
        self.ledger = ForecastLedger(settings.forecast_lookback_seconds, state)

    def run(
        self,
        include_metadata: bool = False,
        analysis: bool = True,
        only_pending_metadata: bool = False,
    ) -> EtlRun:
        """One cycle; returns (and publishes) its record.

        Args:
            include_metadata: also run the (slow, daily) metadata analysis.
            analysis: compute window statistics, forecasts and scores; the
                metadata thread turns this off.
            only_pending_metadata: analyse only the series whose metadata is
                missing or insufficient (the metadata thread's retries).
        """
        started = self._clock.now()
        steps = StepRecorder(self._telemetry)
        found = steps.run(Step.DISCOVERY, lambda: self._discover(started), None)
        results: list[Result] = []
        if found is not None and analysis:
            results = self._analyse(steps, found, started, include_metadata)
        elif found is not None and include_metadata:
            series = found[0]
            results = steps.run(
                Step.METADATA,
                lambda: list(
                    self._metadata.analyze(
                        series, started, only_pending=only_pending_metadata
                    )
                ),
                [],
            )
        published = steps.run(Step.PUBLISH, lambda: self._publish(results), 0)
        # Handed over is not delivered (ADR 0054): wait a little for the
        # acknowledgements, then say how many still sit in the buffer.
        buffered = self._publisher.flush(DELIVERY_WAIT_SECONDS)
        run = EtlRun(
            run_id=uuid.uuid4().hex,
            started_at=started,
            finished_at=self._clock.now(),
            ok=steps.ok,
            steps=tuple(steps.timings),
            series_count=len(found[0]) if found else 0,
            results_published=published,
            results_delivered=published - min(published, buffered),
            results_buffered=buffered,
        )
        self._finish(run)
        return run

    def _analyse(
        self, steps: StepRecorder, found: Found, at: datetime, include_metadata: bool
    ) -> list[Result]:
        series, to_forecast = found
        results: list[Result] = []
        windows = self._settings.windows
        results += steps.run(
            Step.WINDOW_STATS,
            lambda: self._source.window_stats(series, windows, at),
            [],
        )
        if include_metadata:
            results += steps.run(
                Step.METADATA, lambda: self._metadata.analyze(series, at), []
            )
        nothing: tuple[list[Forecast], list[SeriesHistory]] = ([], [])
        forecasts, histories = steps.run(
            Step.FORECAST, lambda: self._forecast(to_forecast, at), nothing
        )
        results += forecasts
        results += steps.run(Step.SCORING, lambda: self.ledger.score(histories, at), [])
        return results

    def _selectors_to_forecast(self) -> list[Selector]:
        if self._targets is not None:
            try:
                self._known.update(self._targets())
            except MonitoringError as exc:
                log.warning(
                    "forecast targets unavailable, using the last ones: %s", exc
                )
        return [*self._settings.forecast_selectors, *self._known.selectors]

    def _discover(self, at: datetime) -> Found:
        start = at - timedelta(seconds=max(self._settings.windows))
        series = self._source.discover(self._settings.selectors, start, at)
        extra = self._selectors_to_forecast()
        to_forecast = self._source.discover(extra, start, at) if extra else []
        return series, to_forecast

    def _forecast(
        self, series: Sequence[SeriesInfo], at: datetime
    ) -> tuple[list[Forecast], list[SeriesHistory]]:
        if not series:
            return [], []
        step = self._settings.forecast_step_seconds
        end = datetime.fromtimestamp(at.timestamp() // step * step, at.tzinfo)
        start = end - timedelta(seconds=self._settings.forecast_lookback_seconds)
        histories = self._source.history(series, start, end, step)
        forecasts = with_kinds(
            self._forecaster.forecast(
                histories, self._settings.horizon_steps, at, self._metadata.latest()
            ),
            series,
        )
        # Here rather than in each forecaster: only the cycle knows the kinds.
        return keep_in_domains(forecasts, series, histories), histories

    def _publish(self, results: Sequence[Result]) -> int:
        self._publisher.publish(results)
        self.ledger.remember([r for r in results if isinstance(r, Forecast)])
        return len(results)

    def _finish(self, run: EtlRun) -> None:
        self._telemetry.observe_cycle(run)
        try:
            self._publisher.publish([run])
        except MonitoringError as exc:
            log.error("could not publish the etl_run record: %s", exc)
        buffered = run.results_buffered or 0
        log.log(
            logging.WARNING if buffered else logging.INFO,
            "etl cycle %s%s",
            "ok" if run.ok else "FAILED",
            f", {buffered} results buffered, not delivered yet" if buffered else "",
            extra={
                "event": "etl_cycle",
                "run_id": run.run_id,
                "ok": run.ok,
                "seconds": round(run.seconds, 3),
                "series": run.series_count,
                "results": run.results_published,
                "delivered": run.results_delivered,
                "buffered": run.results_buffered,
                "steps": {t.step.value: round(t.seconds, 3) for t in run.steps},
                "errors": run.errors,
            },
        )
