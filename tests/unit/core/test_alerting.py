"""Burn-rate conditions scaled to an objective's window, against the Workbook."""

import pytest

from monitoring_core.alerting import AlertingPolicy, burn_rate_windows
from monitoring_core.errors import InvalidSla
from monitoring_core.sla import AlertingDraft, ObjectiveDraft, SlaDraft, validate_sla

DAY = 86400
HOUR = 3600
MINUTE = 60


def _table(window: int, slice_: int) -> list[tuple[str, int, int, float]]:
    return [
        (w.severity, w.long_seconds, w.short_seconds, round(w.factor, 9))
        for w in burn_rate_windows(window, slice_)
    ]


def test_a_30_day_window_gets_the_workbook_table_itself() -> None:
    # Google SRE Workbook, "Alerting on SLOs", table 5-8 (99.9 %, 30 days).
    assert _table(30 * DAY, MINUTE) == [
        ("page", HOUR, 5 * MINUTE, 14.4),
        ("page", 6 * HOUR, 30 * MINUTE, 6.0),
        ("ticket", DAY, 2 * HOUR, 3.0),
        ("ticket", 3 * DAY, 6 * HOUR, 1.0),
    ]


def test_a_shorter_window_shrinks_the_windows_and_keeps_the_factors() -> None:
    # 3 days is a tenth of 30: 1h -> 6m, 5m -> 30s -> one 1m slice, ...
    assert _table(3 * DAY, MINUTE) == [
        ("page", 6 * MINUTE, MINUTE, 14.4),
        ("page", 36 * MINUTE, 3 * MINUTE, 6.0),
        ("ticket", 144 * MINUTE, 12 * MINUTE, 3.0),
        ("ticket", 432 * MINUTE, 36 * MINUTE, 1.0),
    ]


def test_a_longer_window_keeps_the_windows_and_raises_the_factors() -> None:
    # 35 days: the same share of budget in the same hour is a faster burn.
    factors = [f for *_, f in _table(35 * DAY, MINUTE)]
    assert factors == pytest.approx(
        [0.02 * 35 * 24, 0.05 * 35 * 4, 0.10 * 35, 0.10 * 35 / 3]
    )
    assert [long for _, long, _, _ in _table(35 * DAY, MINUTE)] == [
        HOUR,
        6 * HOUR,
        DAY,
        3 * DAY,
    ]


def test_windows_round_up_to_whole_slices_and_the_factor_follows() -> None:
    # 28 days with 5m slices: 1h -> 56m -> 60m; the factor keeps 2 % of the
    # 28-day budget in that hour: 0.02 * 28 * 24 = 13.44.
    first = burn_rate_windows(28 * DAY, 5 * MINUTE)[0]
    assert (first.long_seconds, first.short_seconds) == (HOUR, 5 * MINUTE)
    assert first.factor == pytest.approx(13.44)


def test_a_factor_at_or_above_the_highest_possible_burn_rate_is_unreachable() -> None:
    page = burn_rate_windows(30 * DAY, MINUTE)[0]  # 14.4
    assert page.reachable(0.99)  # the highest burn rate is 100
    assert not page.reachable(0.9)  # the highest burn rate is 10
    assert page.threshold(0.99) == pytest.approx(0.144)


def test_the_alerting_policy_refuses_a_probability_outside_zero_and_one() -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        AlertingPolicy(predicted_breach_probability=1.0)
    assert AlertingPolicy().predicted_breach_for_seconds == 300


def _draft(alerting: AlertingDraft) -> SlaDraft:
    objective = ObjectiveDraft(selector="up", lo=1.0, target=0.99, window="1h")
    return SlaDraft(name="web", objectives=(objective,), alerting=alerting)


def test_an_slas_alerting_settings_are_validated_with_its_other_fields() -> None:
    sla = validate_sla(
        _draft(
            AlertingDraft(
                predicted_breach_probability=0.7,
                predicted_breach_for="0s",
                predicted_breach_horizon="15m",
            )
        )
    )
    assert sla.alerting == AlertingPolicy(
        predicted_breach_probability=0.7,
        predicted_breach_for_seconds=0,
        predicted_breach_horizon_seconds=900,
    )
    assert validate_sla(_draft(AlertingDraft())).alerting == AlertingPolicy()
    with pytest.raises(InvalidSla) as caught:
        validate_sla(
            _draft(
                AlertingDraft(
                    predicted_breach_probability=1.5,
                    predicted_breach_for="soon",
                    predicted_breach_horizon="-1m",
                )
            )
        )
    assert set(caught.value.fields) == {
        "alerting.predicted_breach.probability",
        "alerting.predicted_breach.for",
        "alerting.predicted_breach.horizon",
    }
