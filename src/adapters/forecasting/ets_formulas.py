"""ETS formulas: initial states, h-step sums and variances, fixed-parameter runs."""

import numpy as np

from adapters.forecasting.ets_filters import FloatArray, Smoothing, run_grid

INIT_POINTS = 10
"""Observations used to estimate the initial level and trend."""


def initial_states(values: FloatArray) -> FloatArray:
    """Mean, and regression level and slope, of each row's first observations.

    Returns them as a 3 x N array. The level is placed one step before the
    first observation so that its one-step forecast is the regression line's
    value there.
    """
    # Most rows have their first observations in the first few columns.
    head = values[:, : 4 * INIT_POINTS]
    states = _initial_states(head)
    short = (~np.isnan(head)).sum(axis=1) < INIT_POINTS
    if head.shape[1] < values.shape[1] and short.any():
        states[:, short] = _initial_states(values[short])
    return states


def _initial_states(values: FloatArray) -> FloatArray:
    observed = ~np.isnan(values)
    use = observed & (np.cumsum(observed, axis=1) <= INIT_POINTS)
    weight = use.astype(np.float64)
    y = np.where(use, values, 0.0)
    x = np.arange(values.shape[1], dtype=np.float64)
    count = np.maximum(weight.sum(axis=1), 1.0)
    x_mean = (weight * x).sum(axis=1) / count
    y_mean = y.sum(axis=1) / count
    dx = (x - x_mean[:, None]) * weight
    sxx = (dx * dx).sum(axis=1)
    slope = np.divide((dx * y).sum(axis=1), sxx, out=np.zeros_like(sxx), where=sxx > 0)
    start = observed.argmax(axis=1)
    return np.stack([y_mean, y_mean + slope * (start - 1 - x_mean), slope])


def damped_sums(phi: FloatArray, horizon: int) -> FloatArray:
    """``phi_h = phi + phi**2 + ... + phi**h`` for h = 1..horizon, G x horizon."""
    powers = phi[:, None] ** np.arange(1, horizon + 1)
    return np.cumsum(powers, axis=1)


def ses_variance_factors(alpha: FloatArray, steps: FloatArray) -> FloatArray:
    """h-step forecast variance over sigma^2 for ETS(A,N,N): 1 + (h-1) alpha^2."""
    return 1.0 + (steps - 1.0) * alpha**2


def damped_variance_factors(
    alpha: FloatArray, beta: FloatArray, phi: FloatArray, steps: FloatArray
) -> FloatArray:
    """h-step variance over sigma^2 for ETS(A,Ad,N), element-wise over the inputs.

    ``1 + sum_{j=1}^{h-1} (alpha + beta phi_j)^2`` with ``phi_j`` as in
    :func:`damped_sums`; all arguments broadcast to one shape.
    """
    alpha, beta, phi, steps = np.broadcast_arrays(alpha, beta, phi, steps)
    longest = int(steps.max(initial=1))
    j = np.arange(1, longest)
    flat_phi = phi.reshape(-1, 1)
    phi_j = np.cumsum(flat_phi**j, axis=1)
    c2 = (alpha.reshape(-1, 1) + beta.reshape(-1, 1) * phi_j) ** 2
    c2 = np.where(j < steps.reshape(-1, 1), c2, 0.0)
    factors: FloatArray = (1.0 + c2.sum(axis=1)).reshape(steps.shape)
    return factors


def ses_filter(
    values: FloatArray, alpha: float, initial_level: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ETS(A,N,N) with a fixed alpha over N series (N x T, NaN allowed).

    Returns:
        The one-step forecasts (N x T), the final levels (N) and the sums of
        squared one-step errors over the observed steps (N).
    """
    run = run_grid(
        values,
        Smoothing(np.array([alpha])),
        (initial_level, None),
        split=values.shape[1],
        keep_fitted=True,
    )
    assert run.fitted is not None
    return run.fitted[0], run.level[0], run.sse[0]


def damped_holt_filter(
    values: FloatArray,
    alpha: float,
    beta: float,
    phi: float,
    initial_level: FloatArray,
    initial_trend: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """ETS(A,Ad,N) with fixed parameters over N series (N x T, NaN allowed).

    Returns:
        The one-step forecasts (N x T), the final levels and trends (N each)
        and the sums of squared one-step errors over the observed steps (N).
    """
    run = run_grid(
        values,
        Smoothing(np.array([alpha]), np.array([beta]), np.array([phi])),
        (initial_level, initial_trend),
        split=values.shape[1],
        keep_fitted=True,
    )
    assert run.fitted is not None
    return run.fitted[0], run.level[0], run.trend[0], run.sse[0]
