"""Peer forecasting methods of the forecast-accuracy benchmark.

Every peer returns a ``PathForecast``: per case (row) and step ahead (column)
a point forecast and the 80 % and 95 % interval bounds. The simple peers are
vectorised with numpy; statsforecast's models run one case at a time, spread
over the machine's cores.
"""

import importlib
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
LEVELS = (0.025, 0.1, 0.9, 0.975)
"""Quantile levels of the interval bounds: lower 95, lower 80, upper 80, upper 95."""


@dataclass(frozen=True)
class PathForecast:
    """Point forecasts and interval bounds, each cases x steps."""

    mean: Floats
    lower_80: Floats
    upper_80: Floats
    lower_95: Floats
    upper_95: Floats

    @classmethod
    def empty(cls, cases: int, steps: int) -> "PathForecast":
        """All NaN."""
        return cls(*(np.full((cases, steps), np.nan) for _ in range(5)))

    @classmethod
    def from_quantiles(cls, mean: Floats, quantiles: Floats) -> "PathForecast":
        """From the point forecast and bounds stacked on a last axis in LEVELS order."""
        q = quantiles
        return cls(mean, q[..., 1], q[..., 2], q[..., 0], q[..., 3])


def last_observed(history: Floats) -> Floats:
    """The last non-NaN value of each row (NaN for an empty row)."""
    h = np.asarray(history, float)
    seen = ~np.isnan(h)
    last = h.shape[1] - 1 - seen[:, ::-1].argmax(axis=1)
    return np.where(seen.any(axis=1), h[np.arange(len(h)), last], np.nan)


def _quantiles(values: Floats) -> Floats:
    """LEVELS quantiles of each row's non-NaN values (NaN for a row with none)."""
    out = np.full((values.shape[0], len(LEVELS)), np.nan)
    some = (~np.isnan(values)).any(axis=1)
    if some.any():
        q = np.nanquantile(values[some], LEVELS, axis=1)
        out[some] = q.T
    return out


def difference_quantiles(history: Floats, horizon: int) -> Floats:
    """LEVELS quantiles of each history's own h-step changes, cases x h x 4."""
    h = np.asarray(history, float)
    out = np.empty((h.shape[0], horizon, len(LEVELS)))
    for step in range(1, horizon + 1):
        out[:, step - 1] = _quantiles(h[:, step:] - h[:, :-step])
    return out


def naive(history: Floats, horizon: int) -> PathForecast:
    """The last observed value; intervals from the history's h-step changes."""
    last = last_observed(history)
    mean = np.repeat(last[:, None], horizon, axis=1)
    return PathForecast.from_quantiles(
        mean, mean[..., None] + difference_quantiles(history, horizon)
    )


def seasonal_naive(
    past: Floats, history_steps: int, horizon: int, period: NDArray[np.intp]
) -> PathForecast:
    """The value one period before each future step; naive where unknown.

    Args:
        past: cases x T, each row the series' full past up to and including the
            origin, right-aligned (NaN-padded in front).
        history_steps: the history length; intervals come from the seasonal
            changes ``x[t] - x[t - period]`` over its last that many steps.
        horizon: steps ahead.
        period: per case, the period in steps.
    """
    cases, width = past.shape
    rows = np.arange(cases)[:, None]
    steps = np.arange(1, horizon + 1)[None, :]
    back = width - 1 + steps - period[:, None]
    mean = np.where(back >= 0, past[rows, np.maximum(back, 0)], np.nan)
    recent = width - history_steps + np.arange(history_steps)[None, :]
    before = recent - period[:, None]
    change = past[rows, recent] - np.where(
        before >= 0, past[rows, np.maximum(before, 0)], np.nan
    )
    spread = _quantiles(change)
    result = PathForecast.from_quantiles(mean, mean[..., None] + spread[:, None, :])
    fallback = naive(past[:, -history_steps:], horizon)
    unknown_spread = np.isnan(spread).any(axis=1)
    use_naive = np.isnan(mean) | unknown_spread.reshape(-1, 1)
    return PathForecast(
        *(
            np.where(use_naive, getattr(fallback, f), getattr(result, f))
            for f in ("mean", "lower_80", "upper_80", "lower_95", "upper_95")
        )
    )


def climatology(history: Floats, horizon: int) -> PathForecast:
    """The history's mean; intervals from its empirical quantiles."""
    mean = np.repeat(np.nanmean(history, axis=1)[:, None], horizon, axis=1)
    spread = _quantiles(np.asarray(history, float))
    return PathForecast.from_quantiles(
        mean, np.repeat(spread[:, None, :], horizon, axis=1)
    )


def statsforecast_available() -> str | None:
    """The installed statsforecast version, or None when it cannot be imported."""
    try:
        module = importlib.import_module("statsforecast")
    except ImportError:
        return None
    return str(getattr(module, "__version__", "unknown version"))


def _fit_rows(
    name: str, history: Floats, seasons: NDArray[np.intp], horizon: int
) -> Floats:
    """One statsforecast model on each row: cases x horizon x 5 (mean, LEVELS)."""
    models = importlib.import_module("statsforecast.models")
    model_class = getattr(models, name)
    out = np.full((history.shape[0], horizon, 5), np.nan)
    keys = ("mean", "lo-95", "lo-80", "hi-80", "hi-95")
    for i, (row, season) in enumerate(zip(history, seasons.tolist(), strict=True)):
        y = row[~np.isnan(row)]  # NaN steps dropped: the models take no gaps
        if y.size < 2 * horizon:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = model_class(season_length=season).forecast(
                    y=y, h=horizon, level=[80, 95]
                )
            out[i] = np.stack([np.asarray(fitted[k], float) for k in keys], axis=1)
        except Exception:  # a model that fails leaves its row NaN
            continue
    return out


def statsforecast_model(
    name: str, history: Floats, seasons: NDArray[np.intp], horizon: int
) -> PathForecast:
    """statsforecast model ``name`` (e.g. AutoETS) fitted to every row.

    Rows are split over ``os.cpu_count()`` worker processes. A row whose fit
    fails stays NaN.
    """
    workers = max(1, min(os.cpu_count() or 1, len(history) // 50))
    chunks = np.array_split(np.arange(len(history)), workers)
    if workers == 1:
        parts = [_fit_rows(name, history, seasons, horizon)]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(
                pool.map(
                    _fit_rows,
                    [name] * workers,
                    [history[c] for c in chunks],
                    [seasons[c] for c in chunks],
                    [horizon] * workers,
                )
            )
    fit = np.concatenate(parts, axis=0)
    return PathForecast(fit[..., 0], fit[..., 2], fit[..., 3], fit[..., 1], fit[..., 4])
