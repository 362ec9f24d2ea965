"""Model choice and calibrated distributions from each series' own rolling errors.

For every series the three families (mean, simple and damped-trend exponential
smoothing) are run with their least-squares parameters, and each is made to
forecast the horizon from every past step of the history (a rolling origin).
Comparing those paths with the values that followed gives, per series:

- the model: the family with the least mean absolute error over all rolling
  origins and steps ahead (hundreds of forecasts, so one spike cannot flip it);
- the predictive distribution of the value at each step ahead: the forecast
  plus the empirical quantiles of that step's past errors (split-conformal
  style, with no normal assumption: a skewed, heavy-tailed or discrete series
  keeps its shape, and a series that sits on a value keeps a point mass there);
- the same for the largest and smallest value from the first step up to each
  step (the window max and min), and for the mean over the horizon, read from
  the past windows' actual max, min and mean against the forecast path's.

Arrays are vectorised over series; the origin-by-step arrays are built for a
chunk of rows at a time to bound memory.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from adapters.forecasting.ets_filters import FloatArray, Smoothing, run_grid
from adapters.forecasting.ets_formulas import INIT_POINTS, initial_states
from adapters.forecasting.ets_models import HOLT_GRID, MODELS, SES_ALPHAS, TREND_MODELS
from monitoring_core.forecasts import BAND_LEVELS

LEVELS = np.array(BAND_LEVELS)
MEDIAN = BAND_LEVELS.index(0.5)

BURN_IN = 2 * INIT_POINTS
"""Steps after a series' first observation before its states count as fitted."""

MIN_ORIGINS = 25
"""Fewest rolling origins that calibrate a series' distributions."""

_TREND_ROWS = [MODELS.index(m) for m in TREND_MODELS]

ORIGIN_STRIDE = 2
"""Every second step is an origin: neighbouring origins share all but one value."""

SEASONAL_MARGIN = 1.25
"""``seasonal_ses`` is chosen only when its rolling error times this is the
least: its profile, read from older data, is a guess that can be stale (ADR
0050; on the public series 1.0 lowered the Brier skill, 1.25 raised it)."""

ROW_CHUNK = 512
"""Rows whose origin-by-step arrays are built at once."""


@dataclass(frozen=True)
class Calibrated:
    """The chosen family and calibrated distributions of N series.

    Quantile arrays end with an axis of the five ``BAND_LEVELS``.

    Attributes:
        model: index into ``ets_models.MODELS``, N.
        rolling_mae: the chosen family's mean absolute error over every
            rolling origin and step ahead, N.
        origins: rolling origins with at least one observed value that
            followed, N; rows with fewer than ``MIN_ORIGINS`` are not
            calibrated (their other arrays hold NaN).
        value: N x h x 5, the value at each step ahead.
        running_max, running_min: N x h x 5, the largest and smallest value
            from the first step up to each step.
        average: N x 5, the mean value over the horizon.
    """

    model: NDArray[np.intp]
    rolling_mae: FloatArray
    origins: NDArray[np.intp]
    value: FloatArray
    running_max: FloatArray
    running_min: FloatArray
    average: FloatArray


@dataclass(frozen=True)
class _Family:
    """One family's per-series parameters; states are run from them."""

    alpha: FloatArray
    beta: FloatArray
    phi: FloatArray
    level0: FloatArray
    trend0: FloatArray


def calibrate(
    values: FloatArray,
    horizon: int,
    allow_trend: NDArray[np.bool_],
    workers: int = 1,
    profile: FloatArray | None = None,
) -> Calibrated:
    """Choose a family per series and calibrate its distributions.

    Rows are independent: they are calibrated ``ROW_CHUNK`` at a time, on up
    to ``workers`` threads (numpy releases the GIL in the heavy steps), with
    the same results whatever the chunking and the number of threads.

    Args:
        values: N x T, right-aligned (every row ends at the last column), NaN
            where a step has no observation.
        horizon: steps ahead, h >= 1.
        allow_trend: per series, whether the damped-trend family may be chosen.
        workers: threads that calibrate chunks at once.
        profile: 2 x N x (T + h), each row's seasonal profile at every step
            of its history and horizon (``seasonal.profiles``): as known
            before the history (for the rolling origins) and from all the
            coarse history (for the forecast from the last step). Rows with
            one (no NaN) also try ``seasonal_ses``.
    """
    n = values.shape[0]
    out = _empty(n, horizon)
    chunks = [slice(lo, min(n, lo + ROW_CHUNK)) for lo in range(0, n, ROW_CHUNK)]
    errors = np.geterr()  # per thread: the caller's settings apply in each

    def run(rows: slice) -> None:
        with np.errstate(**errors):
            _calibrate_chunk(
                values[rows],
                horizon,
                allow_trend[rows],
                None if profile is None else profile[:, rows],
                out,
                rows,
            )

    if workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(min(workers, len(chunks))) as pool:
            for done in pool.map(run, chunks):
                assert done is None
    else:
        for rows in chunks:
            run(rows)
    return out


def _calibrate_chunk(
    values: FloatArray,
    horizon: int,
    allow_trend: NDArray[np.bool_],
    profile: FloatArray | None,
    out: Calibrated,
    rows: slice,
) -> None:
    """Fit the families to a chunk of rows, then choose and calibrate."""
    steps = values.shape[1]
    observed = ~np.isnan(values)
    start = np.where(observed.any(axis=1), observed.argmax(axis=1), steps)
    initial = initial_states(values)
    families = (_ses(values, initial), _holt(values, initial))
    states = [
        (*_state_paths(values, start, f), _damped_sums(f.phi, horizon))
        for f in families
    ]
    means = np.nanmean(np.where(observed, values, np.nan), axis=1)
    season = _season(values, start, profile)
    _calibrate_rows(
        values, start, means, states, season, allow_trend, horizon, out, rows
    )


@dataclass(frozen=True)
class _Season:
    """The seasonal candidate of a chunk's rows (NaN rows: none).

    Attributes:
        level: N x T, the simple-smoothing level of the values minus the
            earlier profile, after each step.
        profile: N x (T + h), the earlier profile at every step and ahead.
        now: N x h, the forecast from the last step: the level of the values
            minus the whole coarse history's profile, plus that profile.
    """

    level: FloatArray
    profile: FloatArray
    now: FloatArray


def _season(
    values: FloatArray, start: NDArray[np.intp], profile: FloatArray | None
) -> _Season | None:
    """Simple smoothing of the deseasonalised rows (those with a profile).

    The smoothing constant is fitted on the values minus the earlier profile
    and used with both profiles.
    """
    if profile is None:
        return None
    rows = np.flatnonzero(np.isfinite(profile).all(axis=(0, 2)))
    if rows.size == 0:
        return None
    steps = values.shape[1]
    earlier, whole = profile[0], profile[1]
    adjusted = values[rows] - earlier[rows, :steps]
    family = _ses(adjusted, initial_states(adjusted))
    level = np.full(values.shape, np.nan)
    level[rows] = _state_paths(adjusted, start[rows], family)[0]
    recent = values[rows] - whole[rows, :steps]
    family = _Family(
        family.alpha,
        family.beta,
        family.phi,
        initial_states(recent)[0],
        family.trend0,
    )
    now = np.full((values.shape[0], whole.shape[1] - steps), np.nan)
    now[rows] = (
        _state_paths(recent, start[rows], family)[0][:, -1:] + whole[rows, steps:]
    )
    return _Season(level, earlier, now)


def _empty(n: int, horizon: int) -> Calibrated:
    q = len(BAND_LEVELS)
    return Calibrated(
        model=np.zeros(n, dtype=np.intp),
        rolling_mae=np.full(n, np.nan),
        origins=np.zeros(n, dtype=np.intp),
        value=np.full((n, horizon, q), np.nan),
        running_max=np.full((n, horizon, q), np.nan),
        running_min=np.full((n, horizon, q), np.nan),
        average=np.full((n, q), np.nan),
    )


def _ses(values: FloatArray, initial: FloatArray) -> _Family:
    run = run_grid(
        values, Smoothing(SES_ALPHAS), (initial[0], None), split=values.shape[1]
    )
    alpha = SES_ALPHAS[np.argmin(run.sse, axis=0)]
    zeros = np.zeros_like(alpha)
    return _Family(alpha, zeros, zeros, initial[0], zeros)


def _holt(values: FloatArray, initial: FloatArray) -> _Family:
    alpha, beta, phi = HOLT_GRID
    run = run_grid(
        values,
        Smoothing(alpha, beta, phi),
        (initial[1], initial[2]),
        split=values.shape[1],
    )
    best = np.argmin(run.sse, axis=0)
    return _Family(alpha[best], beta[best], phi[best], initial[1], initial[2])


def _state_paths(
    values: FloatArray, start: NDArray[np.intp], family: _Family
) -> tuple[FloatArray, FloatArray]:
    """Level and trend after each step, N x T each, with per-series parameters.

    The recursion of ``ets_filters.run_grid``: a missing step skips the update
    (the one-step forecast stands in for the value); before its first
    observation a row keeps its initial state.
    """
    n, steps = values.shape
    observed = ~np.isnan(values)
    y_t = np.where(observed, values, 0.0).T.copy()
    m_t = observed.T.astype(np.float64)
    level, trend = family.level0.copy(), family.trend0.copy()
    levels, trends = np.empty((steps, n)), np.empty((steps, n))
    alpha, beta, phi = family.alpha, family.beta, family.phi
    last_start = int(start.max(initial=0))
    for t in range(steps):
        damped = phi * trend
        forecast = level + damped
        error = (y_t[t] - forecast) * m_t[t]
        if t < last_start:
            started = t >= start
            level = np.where(started, forecast + alpha * error, level)
            trend = np.where(started, damped + beta * error, trend)
        else:
            level = forecast + alpha * error
            trend = damped + beta * error
        levels[t], trends[t] = level, trend
    return levels.T, trends.T


def _damped_sums(phi: FloatArray, horizon: int) -> FloatArray:
    """``phi + ... + phi**h`` per series and step ahead, N x h."""
    sums: FloatArray = np.cumsum(phi[:, None] ** np.arange(1, horizon + 1), axis=1)
    return sums


def _calibrate_rows(
    values: FloatArray,
    start: NDArray[np.intp],
    means: FloatArray,
    states: list[tuple[FloatArray, FloatArray, FloatArray]],
    season: _Season | None,
    allow_trend: NDArray[np.bool_],
    horizon: int,
    out: Calibrated,
    rows: slice,
) -> None:
    """Choose and calibrate a chunk of rows; arrays are step x row x origin."""
    n, steps = values.shape
    h = horizon
    # Every ORIGIN_STRIDE-th origin, ending at the last one with a full horizon.
    at = np.arange(steps - horizon - 1, -1, -ORIGIN_STRIDE)[::-1]
    if at.size == 0:
        return
    usable = at[None, :] >= (start + BURN_IN)[:, None]
    # future[j, i, t]: the value j + 1 steps after origin at[t] of row i.
    future = np.stack([values[:, at + j + 1] for j in range(horizon)])
    future[:, ~usable] = np.nan
    mask = ~np.isnan(future)
    filled = np.where(mask, future, 0.0)
    seen = mask.sum(axis=(0, 2))
    # The whole history's mean at every origin, as the other families use
    # parameters fitted to the whole history. (The mean known at each origin
    # was tried: its errors are larger than the final mean's, yet the chosen
    # models' coverage on the public series came out lower, not higher.)
    filled_values = np.where(np.isnan(values), 0.0, values)
    counts_so_far = np.cumsum(~np.isnan(values), axis=1)[:, at]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_so_far = np.cumsum(filled_values, axis=1)[:, at] / counts_so_far
    paths = [np.broadcast_to(mean_so_far[None, :, :], future.shape)]
    for level, trend, sums in states:
        paths.append(level[None, :, at] + sums.T[:, :, None] * trend[None, :, at])
    paths = _with_combinations(paths)
    if season is not None:
        ahead = np.stack([season.profile[:, at + j + 1] for j in range(horizon)])
        paths.append(season.level[None, :, at] + ahead)
    buffer = np.empty(future.shape)
    # No seasonal candidate: its error stays infinite. Rows without a profile
    # get NaN paths, hence NaN errors, made infinite below.
    total = np.full((len(MODELS), n), np.inf)
    for k, candidate in enumerate(paths):
        np.subtract(filled, candidate, out=buffer)
        np.abs(buffer, out=buffer)
        np.multiply(buffer, mask, out=buffer)
        total[k] = buffer.sum(axis=(0, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = total / seen
    for trend_row in _TREND_ROWS:
        mae[trend_row, ~allow_trend] = np.inf
    mae[np.isnan(mae)] = np.inf
    constant = np.nanmin(values, axis=1) == np.nanmax(values, axis=1)
    mae[:, constant] = np.where(np.arange(len(MODELS)) == 0, 0.0, np.inf)[:, None]
    # Near-ties (float noise) go to the simpler model.
    penalty = 1 + 1e-9 * np.arange(len(MODELS))
    penalty[-1] = SEASONAL_MARGIN
    model = np.argmin(mae * penalty[:, None], axis=0)
    out.model[rows] = model
    out.rolling_mae[rows] = mae[model, np.arange(n)]
    out.origins[rows] = mask.any(axis=0).sum(axis=1)
    path = buffer
    for k, candidate in enumerate(paths):
        chosen = model == k
        if chosen.any():
            path[:, chosen] = candidate[:, chosen]
    now = _now_paths(means, states, season, model, horizon)  # n x h
    # One quantile call for every sample set, stacked on the step axis: the
    # value at each step, the running max and min up to it, and the mean.
    # The running max and min over the first step are the value there: their
    # rows start at the second step.
    samples = np.empty((3 * h - 1, *future.shape[1:]))
    value_rows, max_rows, min_rows = (
        slice(0, h),
        slice(h, 2 * h - 1),
        slice(2 * h - 1, 3 * h - 2),
    )
    np.subtract(future, path, out=samples[value_rows])
    _running(np.fmax, np.maximum, future, path, samples[max_rows])
    _running(np.fmin, np.minimum, future, path, samples[min_rows])
    counts = mask.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.subtract(filled.sum(axis=0) / counts, path.mean(axis=0), out=samples[-1])
    quantiles = _weighted_quantiles(samples, _similarity(values, at))
    value = now[:, :, None] + _widening(quantiles[:, value_rows])
    first = quantiles[:, :1]
    top = np.maximum.accumulate(now, axis=1)[:, :, None] + np.concatenate(
        [first, quantiles[:, max_rows]], axis=1
    )
    bottom = np.minimum.accumulate(now, axis=1)[:, :, None] + np.concatenate(
        [first, quantiles[:, min_rows]], axis=1
    )
    # What holds for the true distributions, restored where sampling broke it:
    # the max up to a step is never below the value there nor below the max up
    # to the step before (each quantile), and the min likewise from above.
    out.value[rows] = value
    out.running_max[rows] = np.maximum.accumulate(np.fmax(top, value), axis=1)
    out.running_min[rows] = np.minimum.accumulate(np.fmin(bottom, value), axis=1)
    out.average[rows] = now.mean(axis=1)[:, None] + quantiles[:, -1]


def _running(
    of_values: np.ufunc,
    of_path: np.ufunc,
    future: FloatArray,
    path: FloatArray,
    out: FloatArray,
) -> None:
    """``out[j - 1]``: the running extreme of the values up to step ``j`` minus
    the path's, for ``j >= 1`` (``of_values`` ignores NaN: fmax or fmin).

    Step by step: numpy's ``accumulate`` along the first axis is far slower.
    """
    seen, ahead = future[0], path[0]
    for j in range(1, future.shape[0]):
        seen = of_values(seen, future[j])
        ahead = of_path(ahead, path[j])
        np.subtract(seen, ahead, out=out[j - 1])


def _now_paths(
    means: FloatArray,
    states: list[tuple[FloatArray, FloatArray, FloatArray]],
    season: _Season | None,
    model: NDArray[np.intp],
    horizon: int,
) -> FloatArray:
    """Each row's forecast path from its last step, by its chosen family."""
    candidates = [np.broadcast_to(means[:, None], (means.shape[0], horizon))]
    for level, trend, sums in states:
        candidates.append(level[:, -1:] + trend[:, -1:] * sums)
    combined = _with_combinations(candidates)
    if season is not None:
        combined.append(season.now)
    chosen: FloatArray = np.stack(combined)[model, np.arange(means.shape[0])]
    return chosen


def _with_combinations(paths: list[FloatArray]) -> list[FloatArray]:
    """The three families' paths followed by their equal-weight combinations.

    In ``MODELS`` order: mean, ses, holt_damped, mean_ses, mean_ses_holt.
    """
    mean, ses, holt = paths
    return [mean, ses, holt, (mean + ses) / 2, (mean + ses + holt) / 3]


def _widening(quantiles: FloatArray) -> FloatArray:
    """Error quantiles (N x h x 5) whose spread never shrinks with the step.

    Below the median each quantile is at most its value one step earlier,
    above it at least: an h-step error is the (h-1)-step one plus news, so its
    spread does not shrink; sampling noise in a few hundred origins can make it
    look so, and is taken out.
    """
    low = np.minimum.accumulate(quantiles[:, :, :MEDIAN], axis=1)
    high = np.maximum.accumulate(quantiles[:, :, MEDIAN + 1 :], axis=1)
    widened: FloatArray = np.concatenate(
        [low, quantiles[:, :, MEDIAN : MEDIAN + 1], high], axis=2
    )
    return widened


SIMILARITY_WIDTH = 0.25
"""Kernel width, in rank units (0-1), of the weight of a past origin."""


def _similarity(values: FloatArray, at: NDArray[np.intp]) -> FloatArray:
    """Weight of each origin (N x O): how near its value's rank is to today's.

    A series near the bottom of its range moves differently from one in the
    middle (it has less room to fall and tends to come back); errors from
    origins at a similar rank in the history stand for today's better. The rank
    is the share of the history's values at or below the value at the origin;
    the weight a Gaussian kernel of width ``SIMILARITY_WIDTH`` in rank.
    """
    observed = ~np.isnan(values)
    filled = np.where(observed, values, np.inf)
    order = sort_order(filled)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(values.shape[1])[None, :], axis=1)
    count = np.maximum(observed.sum(axis=1), 1)[:, None]
    share = (ranks + 1) / count
    # A missing step takes the rank of the last observed one before it.
    last_seen = np.maximum.accumulate(
        np.where(observed, np.arange(values.shape[1])[None, :], 0), axis=1
    )
    share = np.take_along_axis(share, last_seen, axis=1)
    distance = (share[:, at] - share[:, -1:]) / SIMILARITY_WIDTH
    weights: FloatArray = np.exp(-0.5 * distance * distance)
    return weights


def sort_order(samples: FloatArray) -> NDArray[np.intp]:
    """Indices that sort the last axis, ascending, NaN last; ties by index.

    As ``np.argsort(samples, kind="stable")``, except that values closer than
    ``2**b`` units in the last place (``b`` bits hold the index) keep their
    index order: the indices ride in the low bits of an order-preserving
    integer key, so one SIMD sort of plain integers does the work (several
    times faster than an argsort, which has no such path with NaN present).
    """
    length = samples.shape[-1]
    low = (1 << max(1, (length - 1).bit_length())) - 1
    keys = (samples + 0.0).view(np.int64)  # + 0.0: -0.0 ties with 0.0
    # Negative floats order backwards as integers: flip their magnitude bits.
    keys ^= (keys >> 63) & np.int64(0x7FFF_FFFF_FFFF_FFFF)
    keys[np.isnan(samples)] = np.iinfo(np.int64).max
    keys &= ~low
    keys |= np.arange(length)
    keys.sort(axis=-1)
    keys &= low
    order: NDArray[np.intp] = keys
    return order


def _weighted_quantiles(samples: FloatArray, weights: FloatArray) -> FloatArray:
    """Weighted ``BAND_LEVELS`` quantiles over the last axis (h x N x O, N x O).

    Each sample stands at the middle of its weight in the sorted order (the
    midpoint rule); a level between two such centres interpolates linearly
    between their values, a level outside them takes the end value.
    """
    steps, n, o = samples.shape
    order = sort_order(samples).reshape(steps * n, o)
    flat = samples.reshape(steps * n, o)
    row = np.arange(steps * n)
    count = (~np.isnan(flat)).sum(axis=1)
    # The weights in sorted order; NaN samples (sorted last) weigh nothing.
    w = np.take(weights, order + ((row % n) * o)[:, None])
    cumulative = np.cumsum(w, axis=1)
    last = (count - 1)[:, None]
    # The NaN samples, sorted last, are left out of the total: their centres
    # lie above 1, past every level (and are cut to 1 for the search below).
    total = np.take_along_axis(cumulative, np.clip(last, 0, None), axis=1)
    w *= 0.5
    cumulative -= w
    centre = cumulative
    centre /= np.where(total > 0, total, 1.0)
    # Centres rise along each row, so one search of all rows laid end to end,
    # row r shifted by 2r, finds each level's place.
    shift = 2.0 * row
    shifted = np.minimum(centre, 1.0)
    shifted += shift[:, None]
    place = (
        np.searchsorted(
            shifted.reshape(-1),
            (shift[:, None] + LEVELS[None, :]).reshape(-1),
        ).reshape(steps * n, len(BAND_LEVELS))
        - (row * o)[:, None]
    )
    j = np.clip(np.minimum(place, last), 0, None)
    i = np.clip(j - 1, 0, None)
    c_i = np.take_along_axis(centre, i, axis=1)
    c_j = np.take_along_axis(centre, j, axis=1)
    v_i = flat[row[:, None], np.take_along_axis(order, i, axis=1)]
    v_j = flat[row[:, None], np.take_along_axis(order, j, axis=1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip((LEVELS - c_i) / (c_j - c_i), 0.0, 1.0)
    share = np.where(c_j > c_i, share, 1.0)
    result = v_i + share * (v_j - v_i)
    result[count == 0] = np.nan
    return np.moveaxis(result.reshape(steps, n, len(BAND_LEVELS)), 0, 1)


def _quantiles(samples: FloatArray, weights: FloatArray | None = None) -> FloatArray:
    """``BAND_LEVELS`` quantiles over the last axis, NaN ignored (h x N x O: N x h x 5).

    Linear interpolation between order statistics (numpy's default method),
    for every row and step at once; NaN where a row and step has no sample.
    With ``weights`` (N x O), weighted quantiles (``_weighted_quantiles``).
    """
    if weights is not None:
        return _weighted_quantiles(samples, weights)
    ordered = np.sort(samples, axis=2)  # NaN sorts last
    count = (~np.isnan(samples)).sum(axis=2)  # h x N
    last = np.maximum(count - 1, 0)[:, :, None]
    position = LEVELS[None, None, :] * last
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, last)
    weight = position - below
    low = np.take_along_axis(ordered, below, axis=2)
    high = np.take_along_axis(ordered, above, axis=2)
    result: FloatArray = low + weight * (high - low)
    result[count == 0] = np.nan
    return np.moveaxis(result, 0, 1)
