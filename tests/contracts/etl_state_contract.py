"""What every EtlStateStore must do: keep pending forecasts whole, apply a
change set or a rewrite as one, keep the last target set, and fail cleanly."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from monitoring_core.errors import StoreUnavailable
from monitoring_core.forecasts import Forecast
from monitoring_core.ports import EtlStateStore
from monitoring_core.selectors import parse_selector
from monitoring_core.series import MetricKind, SeriesKey
from tests.support import factories


def pending(host: str, minute: int = 0, **changes: Any) -> Forecast:
    """A forecast of ``host``'s load made ``minute`` minutes after NOW."""
    base = factories.forecast_with_distributions()
    shift = 60.0 * minute
    return attrs.evolve(
        base,
        series=SeriesKey.of("node_load1", {"instance": host, "job": "node"}),
        made_at=base.made_at + timedelta(minutes=minute),
        points=tuple(
            attrs.evolve(p, timestamp=p.timestamp + shift) for p in base.points
        ),
        **changes,
    )


def key(forecast: Forecast) -> tuple[str, datetime]:
    return (forecast.series.id, forecast.made_at)


def by_key(forecasts: list[Forecast]) -> dict[tuple[str, datetime], Forecast]:
    return {key(f): f for f in forecasts}


class EtlStateContract:
    """Subclasses provide ``state`` (empty) and ``broken`` (every call fails)."""

    def test_an_empty_state_has_no_forecasts_and_no_target_set(
        self, state: EtlStateStore
    ) -> None:
        assert state.pending_forecasts() == []
        assert state.forecast_targets() is None

    def test_forecasts_come_back_whole(self, state: EtlStateStore) -> None:
        plain = factories.forecast(MetricKind.COUNTER)
        odd = pending("b", 1, model="holt_damped", holdout_mae=float("nan"))
        state.update_forecasts([plain, pending("a"), odd], [])
        found = by_key(state.pending_forecasts())
        assert found[key(plain)] == plain
        assert found[key(pending("a"))] == pending("a")
        # NaN is not equal to itself: compare the rest, then the NaN.
        back = found[key(odd)]
        assert attrs.evolve(back, holdout_mae=0.0) == attrs.evolve(odd, holdout_mae=0.0)
        assert back.holdout_mae != back.holdout_mae
        assert len(found) == 3

    def test_an_update_forgets_then_adds_in_one_call(
        self, state: EtlStateStore
    ) -> None:
        state.update_forecasts([pending("a"), pending("b"), pending("a", 1)], [])
        newer = pending("b", model="naive")
        state.update_forecasts(
            [pending("c"), newer], [key(pending("a")), key(pending("zz"))]
        )
        assert by_key(state.pending_forecasts()) == by_key(
            [pending("a", 1), newer, pending("c")]
        )

    def test_a_rewrite_leaves_exactly_the_given_forecasts(
        self, state: EtlStateStore
    ) -> None:
        state.update_forecasts([pending("a"), pending("b")], [])
        state.replace_forecasts([pending("c"), pending("a", 2)])
        assert by_key(state.pending_forecasts()) == by_key(
            [pending("c"), pending("a", 2)]
        )
        state.replace_forecasts([])
        assert state.pending_forecasts() == []

    def test_the_last_target_set_is_kept_even_when_empty(
        self, state: EtlStateStore
    ) -> None:
        first = [parse_selector('node_load1{job="node"}'), parse_selector('{a=~"x|y"}')]
        state.save_forecast_targets(first)
        assert state.forecast_targets() == first
        tricky = [parse_selector('up{path!="a\\\\\\"b",x!~"\\n"}')]
        state.save_forecast_targets(tricky)
        assert state.forecast_targets() == tricky
        state.save_forecast_targets([])
        assert state.forecast_targets() == []

    def test_a_broken_store_raises_store_unavailable(
        self, broken: EtlStateStore
    ) -> None:
        calls: list[Callable[[], object]] = [
            broken.pending_forecasts,
            lambda: broken.update_forecasts([pending("a")], []),
            lambda: broken.replace_forecasts([pending("a")]),
            broken.forecast_targets,
            lambda: broken.save_forecast_targets([]),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable):
                call()
