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
    ShardLease,
)
from monitoring_core.results import result_type
from monitoring_core.runs import EtlRun, Step
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesHistory, SeriesInfo
from monitoring_core.services.forecast_ledger import ForecastLedger, KnownTargets
from monitoring_core.services.metadata_job import MetadataJob
from monitoring_core.services.settings import EtlSettings
from monitoring_core.services.steps import StepRecorder
from monitoring_core.sharding import Sharding
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
        lease: the shards this worker analyses (ADR 0055); None: every
            series, and the records say nothing of shards.
        sharding: how series map to shards.
        window_seconds: the length of a cycle window (the cycle period): an
            analysis cycle claims its shards for the window it starts in, and
            a shard is analysed at most once per window across the workers.
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
        lease: ShardLease | None = None,
        sharding: Sharding | None = None,
        window_seconds: int = 60,
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
        self._lease = lease
        self._sharding = sharding or Sharding()
        self._window_seconds = window_seconds

    def run(
        self,
        include_metadata: bool = False,
        analysis: bool = True,
        only_pending_metadata: bool = False,
        claim: bool = True,
    ) -> EtlRun:
        """One cycle; returns (and publishes) its record.

        Args:
            include_metadata: also run the (slow, daily) metadata analysis.
            analysis: compute window statistics, forecasts and scores; the
                metadata thread turns this off.
            only_pending_metadata: analyse only the series whose metadata is
                missing or insufficient (the metadata thread's retries).
            claim: claim the shards for the cycle window (ADR 0055); False
                (``monitoring etl --once``) analyses every owned shard, even
                one already analysed in this window.
        """
        started = self._clock.now()
        window = int(started.timestamp()) // self._window_seconds
        steps = StepRecorder(self._telemetry)
        shards: frozenset[int] | None = None

        def discover() -> Found:
            nonlocal shards
            if self._lease is not None:  # claims only for analysis cycles
                claims = analysis and claim
                shards = self._lease.claim(window) if claims else self._lease.owned()
            return self._discover(started, shards)

        found = steps.run(Step.DISCOVERY, discover, None)
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
        covered: list[frozenset[int]] = []

        def publish() -> int:
            if self._lease is None or shards is None:
                return self._publish(results)
            claimed = analysis and claim
            with self._lease.publishing(shards, claimed) as kept:
                covered.append(kept)
                mine = results
                if kept != shards:  # taken away since the claim: abandoned
                    mine = [r for r in results if self._shard_in(r, kept)]
                count = self._publish(mine)
                if claimed:
                    self._lease.finished(window, kept, self._clock.now())
                return count

        published = steps.run(Step.PUBLISH, publish, 0)
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
            worker=self._lease.worker if self._lease is not None else None,
            shards=tuple(sorted(covered[0])) if covered else None,
        )
        self._finish(run)
        return run

    def owned_shards(self) -> frozenset[int] | None:
        """The shards this worker owns now; None without a lease."""
        return self._lease.owned() if self._lease is not None else None

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

    def _discover(self, at: datetime, shards: frozenset[int] | None) -> Found:
        start = at - timedelta(seconds=max(self._settings.windows))
        if shards is not None and not shards:
            return [], []  # no shard of this worker to analyse in this window
        series = self._source.discover(self._settings.selectors, start, at)
        extra = self._selectors_to_forecast()
        to_forecast = self._source.discover(extra, start, at) if extra else []
        if shards is None:
            return series, to_forecast
        shard_of = self._sharding.shard_of
        return (
            [s for s in series if shard_of(s.key) in shards],
            [s for s in to_forecast if shard_of(s.key) in shards],
        )

    def _shard_in(self, result: Result, shards: frozenset[int]) -> bool:
        series = result_type(result).series(result)
        return series is None or self._sharding.shard_of(series) in shards

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
