"""The SLA manager's three use cases built together for tests, wired as the
containers wire them (apps/sla/containers.py)."""

import attrs

from adapters.grpc.service import SlaManagerServicer
from monitoring_core.ports import (
    Clock,
    ForecastLookup,
    MetricSource,
    PredictionLog,
    SampleSource,
    SlaRepository,
)
from monitoring_core.services.sla_console import SlaConsoleQueries
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.services.sla_judgement import SlaJudgement
from monitoring_core.services.sla_predictions import PredictionService
from monitoring_core.services.sla_state import SlaStateService
from monitoring_core.sla import SlaLimits


@attrs.frozen(kw_only=True)
class SlaServices:
    """Definitions, judgement and predictions over the same adapters."""

    definitions: SlaDefinitions
    judgement: SlaJudgement
    predictions: PredictionService

    def console(
        self, clock: Clock, state: SlaStateService | None = None
    ) -> SlaConsoleQueries:
        """The console's reads over these use cases (a new state by default)."""
        if state is None:
            state = SlaStateService(
                self.definitions, self.judgement, self.predictions, clock
            )
        return SlaConsoleQueries(
            state, self.definitions, self.judgement, self.predictions, clock
        )

    def servicer(
        self, clock: Clock, state: SlaStateService | None = None
    ) -> SlaManagerServicer:
        """The gRPC servicer of these use cases."""
        return SlaManagerServicer(
            self.definitions,
            self.judgement,
            self.predictions,
            clock,
            self.console(clock, state),
        )


def sla_services(
    repository: SlaRepository,
    source: MetricSource,
    samples: SampleSource,
    forecasts: ForecastLookup,
    clock: Clock,
    limits: SlaLimits | None = None,
    coverage_floor: float = 0.9,
    predictions: PredictionLog | None = None,
) -> SlaServices:
    """The three use cases, sharing one definitions service.

    The arguments are those the single ``SlaManager`` took before issue 12.
    """
    definitions = SlaDefinitions(repository, source, clock, limits)
    judgement = SlaJudgement(definitions, samples, clock, coverage_floor)
    return SlaServices(
        definitions=definitions,
        judgement=judgement,
        predictions=PredictionService(
            definitions, judgement, forecasts, clock, log=predictions
        ),
    )
