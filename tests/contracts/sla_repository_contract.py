"""What every SlaRepository must do: versions, idempotence, conflicts, deletes."""

import threading
from datetime import UTC, datetime

import attrs
import pytest

from adapters.in_memory.clock import FixedClock
from monitoring_core.alerting import AlertingPolicy
from monitoring_core.errors import SlaNotFound, StoreUnavailable, VersionConflict
from monitoring_core.ports import SlaRepository
from monitoring_core.selectors import parse_selector
from monitoring_core.sla import Objective, Sla
from monitoring_core.slo import AllowedRange

NOW = datetime(2026, 11, 27, 10, 0, 0, 123000, tzinfo=UTC)


def objective(selector: str = 'node_load1{instance="db-1:9100"}') -> Objective:
    return Objective(
        selector=parse_selector(selector),
        allowed=AllowedRange(lo=0.0, hi=4.0),
        target=0.99,
        window_seconds=43200,
        slice_seconds=60,
    )


def sla(name: str = "web-tier", *objectives: Objective) -> Sla:
    return Sla(
        name=name,
        objectives=objectives or (objective(),),
        description="the web tier",
    )


class SlaRepositoryContract:
    """Subclasses provide ``repository`` (empty, clock at NOW) and ``broken``."""

    @pytest.fixture
    def clock(self) -> FixedClock:
        return FixedClock(NOW)

    def test_put_creates_version_one_and_get_returns_it_whole(
        self, repository: SlaRepository
    ) -> None:
        one_sided = Objective(
            selector=parse_selector('up{job="node"}'),
            allowed=AllowedRange(lo=1.0),
            target=0.999,
            window_seconds=3600,
            slice_seconds=30,
            allow_pending=True,
        )
        stored, changed = repository.put(sla("a", objective(), one_sided), None)
        assert changed and stored.version == 1 and stored.updated_at == NOW
        assert repository.get("a") == stored
        assert stored.objectives == (objective(), one_sided)
        assert repository.get("b") is None

    def test_reapplying_the_same_definition_changes_nothing(
        self, repository: SlaRepository, clock: FixedClock
    ) -> None:
        first, _ = repository.put(sla(), None)
        clock.advance(60)
        again, changed = repository.put(sla(), None)
        assert not changed and again == first

    def test_a_change_increments_the_version(
        self, repository: SlaRepository, clock: FixedClock
    ) -> None:
        repository.put(sla(), None)
        clock.advance(60)
        changed_sla = attrs.evolve(sla(), description="now with more nines")
        stored, changed = repository.put(changed_sla, 1)
        assert changed and stored.version == 2
        assert repository.get("web-tier") == stored
        assert stored.description == "now with more nines"

    def test_a_stale_version_is_a_conflict_and_stores_nothing(
        self, repository: SlaRepository
    ) -> None:
        repository.put(sla(), None)
        before = repository.get("web-tier")
        with pytest.raises(VersionConflict, match="version 1, not 7"):
            repository.put(attrs.evolve(sla(), description="lost update"), 7)
        with pytest.raises(VersionConflict):
            repository.put(sla(), 0)  # 0: "must not exist yet"
        assert repository.get("web-tier") == before

    def test_version_zero_creates_only(self, repository: SlaRepository) -> None:
        stored, changed = repository.put(sla(), 0)
        assert changed and stored.version == 1

    def test_list_is_by_name(self, repository: SlaRepository) -> None:
        for name in ("zeta", "alpha", "mid"):
            repository.put(sla(name), None)
        assert [s.name for s in repository.all()] == ["alpha", "mid", "zeta"]

    def test_delete_with_and_without_version(self, repository: SlaRepository) -> None:
        repository.put(sla("a"), None)
        repository.put(sla("b"), None)
        with pytest.raises(VersionConflict):
            repository.delete("a", 5)
        repository.delete("a", 1)
        repository.delete("b", None)
        assert repository.all() == []
        with pytest.raises(SlaNotFound):
            repository.delete("a", None)

    def test_concurrent_writers_of_one_version_do_not_both_win(
        self, repository: SlaRepository
    ) -> None:
        repository.put(sla(), None)
        outcomes: list[str] = []

        def write(index: int) -> None:
            change = attrs.evolve(sla(), description=f"writer {index}")
            try:
                repository.put(change, 1)
                outcomes.append("won")
            except VersionConflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
        stored = repository.get("web-tier")
        assert stored is not None and stored.version == 2

    def test_an_unreachable_repository_raises_store_unavailable(
        self, broken: SlaRepository
    ) -> None:
        with pytest.raises(StoreUnavailable):
            broken.all()
        with pytest.raises(StoreUnavailable):
            broken.put(sla(), None)

    def test_alerting_settings_are_kept_and_a_change_of_them_is_a_new_version(
        self, repository: SlaRepository
    ) -> None:
        repository.put(sla(), None)
        own = AlertingPolicy(
            predicted_breach_probability=0.8,
            predicted_breach_for_seconds=0,
            predicted_breach_horizon_seconds=900,
        )
        stored, changed = repository.put(attrs.evolve(sla(), alerting=own), None)
        assert changed and stored.version == 2
        again = repository.get("web-tier")
        assert again is not None and again.alerting == own
        back, changed = repository.put(sla(), None)
        assert changed and back.version == 3 and back.alerting == AlertingPolicy()
