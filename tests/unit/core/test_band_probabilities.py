"""Probabilities read off a calibrated forecast's quantiles (ADR 0040)."""

import math

import pytest

from monitoring_core.forecasts import Band
from monitoring_core.slo.probabilities import band_above, band_below

SPREAD = Band(lower_95=0.0, lower_80=1.0, median=2.0, upper_80=3.0, upper_95=4.0)


@pytest.mark.parametrize(
    ("x", "below"),
    [
        (0.0, 0.025),
        (1.0, 0.1),
        (1.5, math.sqrt(0.1 * 0.5)),  # log-linear in F below the median
        (2.0, 0.5),
        (3.0, 0.9),
        (3.5, 1 - math.sqrt(0.1 * 0.025)),  # log-linear in 1 - F above it
        (4.0, 0.975),
    ],
)
def test_the_distribution_passes_through_its_quantiles_log_linearly(
    x: float, below: float
) -> None:
    assert band_below(SPREAD, x) == pytest.approx(below)
    assert band_above(SPREAD, x) == pytest.approx(1.0 - below)


def test_the_tails_decay_exponentially_with_the_outer_gap() -> None:
    scale = 1.0 / math.log(4.0)  # (q10 - q2.5) / ln(0.1 / 0.025)
    assert band_below(SPREAD, -1.0) == pytest.approx(0.025 * math.exp(-1.0 / scale))
    assert band_above(SPREAD, 6.0) == pytest.approx(0.025 * math.exp(-2.0 / scale))
    assert band_above(SPREAD, 1e6) == 0.0  # negligible, not a denormal


def test_a_series_sitting_on_a_bound_is_not_half_bad() -> None:
    # Half of the distribution sits exactly on 0: a range 'x >= 0' is never
    # crossed (a value on a bound is good), and 'x <= 0' is crossed with the
    # probability of the values above 0 only.
    on_zero = Band(lower_95=0.0, lower_80=0.0, median=0.0, upper_80=2.0, upper_95=3.0)
    assert band_below(on_zero, 0.0) == 0.0
    assert band_above(on_zero, 0.0) == pytest.approx(0.5)
    flat = Band(lower_95=5.0, lower_80=5.0, median=5.0, upper_80=5.0, upper_95=5.0)
    assert band_below(flat, 5.0) == 0.0 and band_above(flat, 5.0) == 0.0
    assert band_below(flat, 5.1) == 1.0 and band_above(flat, 4.9) == 1.0
