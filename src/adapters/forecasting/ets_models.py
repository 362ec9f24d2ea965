"""The vectorised engine's model families, fitted to a batch and chosen per series."""

from dataclasses import dataclass
from itertools import product

import numpy as np
from numpy.typing import NDArray

from adapters.forecasting.ets_filters import FloatArray, Smoothing, run_grid
from adapters.forecasting.ets_formulas import (
    damped_sums,
    damped_variance_factors,
    initial_states,
    ses_variance_factors,
)

MODELS = ("mean", "ses", "holt_damped", "mean_ses", "mean_ses_holt", "seasonal_ses")
"""Model names, simplest first; a tie in error goes to the simpler one.

``mean_ses`` and ``mean_ses_holt`` are equal-weight combinations of the first
three's forecasts; ``seasonal_ses`` is simple smoothing of the values minus a
seasonal profile read from a longer, coarser history, plus the profile (ADR
0050). The last three are chosen only with rolling-origin calibration
(``ets_rolling``), ``seasonal_ses`` only when a profile is given.
"""

TREND_MODELS = ("holt_damped", "mean_ses_holt")
"""Models that extrapolate a trend (not chosen for a stationary series)."""

# Alpha stops at 0.99, not 1: statsmodels' bounds, so it can check every point.
SES_ALPHAS = np.array(
    [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99]
)
# Every beta <= alpha (the usual admissible set); 24 points keep the run fast.
HOLT_GRID = np.array(
    list(product((0.2, 0.5, 0.8, 0.99), (0.01, 0.05, 0.15), (0.9, 0.98)))
).T


@dataclass(frozen=True)
class FamilyFit:
    """One model family fitted to N series.

    Attributes:
        holdout: forecasts of the held-out last k steps from the rest, N x k.
        mean: forecasts of the next h steps from the whole series, N x h.
        variance: forecast-error variances of ``mean``, N x h.
    """

    holdout: FloatArray
    mean: FloatArray
    variance: FloatArray


@dataclass(frozen=True)
class Selection:
    """The family chosen for each of N series and its forecasts.

    Attributes:
        model: index into ``MODELS``, N.
        holdout_mae: hold-out mean absolute error of the chosen family, N.
        mean, variance: forecasts and their error variances, N x h.
    """

    model: NDArray[np.intp]
    holdout_mae: FloatArray
    mean: FloatArray
    variance: FloatArray


def _pick(grid: FloatArray, index: NDArray[np.intp]) -> FloatArray:
    return grid[index, np.arange(grid.shape[1])]


def fit_mean(values: FloatArray, horizon: int, holdout: int) -> FamilyFit:
    """A constant at the mean; variance sigma^2 (1 + 1/n), zero for constants."""
    train_mean = np.nanmean(values[:, :-holdout], axis=1)
    n = (~np.isnan(values)).sum(axis=1)
    low, high = np.nanmin(values, axis=1), np.nanmax(values, axis=1)
    constant = low == high
    # The exact value for constant series: a computed mean can be off by an ulp.
    mean = np.where(constant, low, np.nanmean(values, axis=1))
    var = np.where(constant, 0.0, np.nanvar(values, axis=1, ddof=1)) * (1 + 1 / n)
    ones = np.ones(horizon)
    return FamilyFit(
        train_mean[:, None] * np.ones(holdout),
        mean[:, None] * ones,
        var[:, None] * ones,
    )


def fit_ses(
    values: FloatArray, holdout: int, steps_ahead: FloatArray, initial: FloatArray
) -> FamilyFit:
    """ETS(A,N,N), alpha from ``SES_ALPHAS`` by least one-step squared error.

    The forecasts of the whole series run ``steps_ahead.shape[1]`` steps.
    """
    run = run_grid(
        values,
        Smoothing(SES_ALPHAS),
        (initial[0], None),
        split=values.shape[1] - holdout,
    )
    train = _pick(run.split_level, np.argmin(run.split_sse, axis=0))
    ones = np.ones(steps_ahead.shape[1])
    best = np.argmin(run.sse, axis=0)
    sigma2 = _pick(run.sse, best) / (~np.isnan(values)).sum(axis=1)
    factors = ses_variance_factors(SES_ALPHAS[best][:, None], steps_ahead)
    return FamilyFit(
        train[:, None] * np.ones(holdout),
        _pick(run.level, best)[:, None] * ones,
        sigma2[:, None] * factors,
    )


def fit_holt(
    values: FloatArray, holdout: int, steps_ahead: FloatArray, initial: FloatArray
) -> FamilyFit:
    """ETS(A,Ad,N), (alpha, beta, phi) from ``HOLT_GRID`` by least squared error.

    The forecasts of the whole series run ``steps_ahead.shape[1]`` steps.
    """
    alpha, beta, phi = HOLT_GRID
    run = run_grid(
        values,
        Smoothing(alpha, beta, phi),
        (initial[1], initial[2]),
        split=values.shape[1] - holdout,
    )
    horizon = steps_ahead.shape[1]
    sums = damped_sums(phi, horizon)
    held_sums = sums if holdout == horizon else damped_sums(phi, holdout)
    train = np.argmin(run.split_sse, axis=0)
    held = (
        _pick(run.split_level, train)[:, None]
        + held_sums[train] * _pick(run.split_trend, train)[:, None]
    )
    best = np.argmin(run.sse, axis=0)
    mean = (
        _pick(run.level, best)[:, None] + sums[best] * _pick(run.trend, best)[:, None]
    )
    sigma2 = _pick(run.sse, best) / (~np.isnan(values)).sum(axis=1)
    factors = damped_variance_factors(
        alpha[best][:, None], beta[best][:, None], phi[best][:, None], steps_ahead
    )
    return FamilyFit(held, mean, sigma2[:, None] * factors)


def select(
    values: FloatArray,
    horizon: int,
    allow_trend: NDArray[np.bool_],
    holdout: int | None = None,
) -> Selection:
    """Fit every family, keep per series the one with the least hold-out MAE.

    Args:
        values: N x T, right-aligned (every row ends at the last column), with
            enough observations and at least one in the last ``holdout`` steps.
        horizon: steps forecast from the whole series.
        allow_trend: per series, whether ``holt_damped`` may be chosen.
        holdout: last steps held out to score the families (1 <= holdout < T);
            the horizon when None. A shorter hold-out lets short histories be
            forecast, but it never tests the choice beyond ``holdout`` steps:
            the variance at each step is then the largest among the families
            that could be chosen (model uncertainty), not only the chosen one's.
    """
    if holdout is None:
        holdout = horizon
    observed = ~np.isnan(values)
    # Trailing missing steps already passed: the forecasts reach further ahead.
    gap = np.argmax(observed[:, ::-1], axis=1)
    steps_ahead = gap[:, None] + np.arange(1.0, horizon + 1)
    initial = initial_states(values)
    fits = (
        fit_mean(values, horizon, holdout),
        fit_ses(values, holdout, steps_ahead, initial),
        fit_holt(values, holdout, steps_ahead, initial),
    )
    held, held_seen = values[:, -holdout:], observed[:, -holdout:]
    errors = np.stack(
        [np.abs(np.where(held_seen, held - f.holdout, 0.0)) for f in fits]
    )
    mae = errors.sum(axis=2) / held_seen.sum(axis=1)
    mae[2, ~allow_trend] = np.inf
    mae[np.isnan(mae)] = np.inf
    constant = np.nanmin(values, axis=1) == np.nanmax(values, axis=1)
    mae[:, constant] = np.where(np.arange(3) == 0, 0.0, np.inf)[:, None]
    # Near-ties (float noise) go to the simpler model.
    model = np.argmin(mae * (1 + 1e-9 * np.arange(3))[:, None], axis=0)
    rows = np.arange(values.shape[0])
    variances = np.stack([f.variance for f in fits])
    variance = variances[model, rows]
    if holdout < horizon:
        variance = _widest(variances, np.isfinite(mae), variance)
    return Selection(
        model=model,
        holdout_mae=mae[model, rows],
        mean=np.stack([f.mean for f in fits])[model, rows],
        variance=variance,
    )


def _widest(
    variances: FloatArray, candidate: NDArray[np.bool_], chosen: FloatArray
) -> FloatArray:
    """Per series and step, the largest variance of the candidate families.

    Args:
        variances: 3 x N x h, by family.
        candidate: 3 x N, families that could be chosen (finite hold-out
            error; a constant series has only ``mean``, so it stays at zero).
        chosen: N x h, the chosen family's variances, kept if none is larger.
    """
    masked = np.where(candidate[:, :, None], variances, -np.inf)
    widest: FloatArray = np.fmax(chosen, np.fmax.reduce(masked, axis=0))
    return widest
