"""The SLA manager's definitions: apply, get, list and delete SLAs; the SLA set."""

from datetime import timedelta

from monitoring_core.errors import InvalidSla, SlaNotFound
from monitoring_core.ports import Clock, MetricSource, SlaRepository
from monitoring_core.selectors import Selector
from monitoring_core.sla import Sla, SlaDraft, SlaLimits, next_version, validate_sla


class SlaDefinitions:
    """Keeps SLA definitions: validates, stores and finds them.

    Args:
        repository: where SLAs are stored.
        source: discovers series (to reject selectors that match nothing).
        clock: the current time.
        limits: bounds on one SLA.
    """

    def __init__(
        self,
        repository: SlaRepository,
        source: MetricSource,
        clock: Clock,
        limits: SlaLimits | None = None,
    ) -> None:
        self._repository = repository
        self._source = source
        self._clock = clock
        self.limits = limits or SlaLimits()

    def apply(
        self,
        draft: SlaDraft,
        expected_version: int | None = None,
        validate_only: bool = False,
    ) -> tuple[Sla, bool]:
        """Validate a draft completely, then create or replace the SLA.

        Args:
            draft: the SLA as given.
            expected_version: see ``SlaRepository.put``.
            validate_only: check everything and answer as if applied, but
                store nothing.

        Returns:
            The stored (or would-be) SLA and whether it changed.

        Raises:
            InvalidSla: a field is wrong or a selector matches no series (unless
                the objective allows pending); nothing was stored.
            VersionConflict: someone else changed the SLA meanwhile.
            SourceUnavailable, StoreUnavailable: a dependency is down.
        """
        sla = validate_sla(draft, self.limits)
        now = self._clock.now()
        unmatched: dict[str, str] = {}
        for index, objective in enumerate(sla.objectives):
            if objective.allow_pending:
                continue
            since = now - timedelta(seconds=objective.window_seconds)
            if not self._source.discover([objective.selector], since, now):
                unmatched[f"objectives[{index}].selector"] = (
                    f"{objective.selector.to_promql()} matches no series with "
                    "samples in its window; fix it or set allow_pending"
                )
        if unmatched:
            raise InvalidSla(unmatched)
        if validate_only:
            stored = self._repository.get(sla.name)
            return next_version(stored, sla, expected_version, now)
        return self._repository.put(sla, expected_version)

    def get(self, name: str) -> Sla:
        """The SLA of that name.

        Raises:
            SlaNotFound: no such SLA.
        """
        sla = self._repository.get(name)
        if sla is None:
            raise SlaNotFound(f"there is no SLA named {name!r}")
        return sla

    def list_slas(self) -> list[Sla]:
        """Every SLA, by name."""
        return self._repository.all()

    def delete(self, name: str, expected_version: int | None = None) -> None:
        """Delete an SLA; see :meth:`SlaRepository.delete`."""
        self._repository.delete(name, expected_version)

    def forecast_targets(self) -> list[Selector]:
        """The selectors of every objective of every SLA (the SLA set)."""
        seen: dict[Selector, None] = {}
        for sla in self._repository.all():
            for objective in sla.objectives:
                seen.setdefault(objective.selector)
        return list(seen)
