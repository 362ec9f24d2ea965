"""Seasonal profiles read from a longer, coarser history (ADR 0050).

A forecast history of a few hours cannot show a daily cycle. When metadata
found a period, the ETL also reads a coarse history spanning a few periods
(``SeasonalHistory``); its profile, the mean departure from the history's mean
at each phase of the period before the forecast history begins, is
interpolated onto the forecast's steps. The
engine then tries ``seasonal_ses`` (simple smoothing of the values minus the
profile, plus the profile ahead) among its candidates, and keeps it only for
series whose rolling-origin errors it lowers (``ets_rolling``).
"""

from collections.abc import Mapping, Sequence

import numpy as np

from adapters.forecasting.ets_filters import FloatArray
from monitoring_core.metadata import SeasonalHistory
from monitoring_core.series import SeriesHistory

MIN_PERIODS = 2
"""Observations each phase of the period needs in the coarse history."""

MIN_PHASES = 4
"""Fewest coarse steps per period: a coarser grid cannot draw a cycle."""


def profile_of(seasonal: SeasonalHistory, before: float) -> FloatArray | None:
    """The mean departure from the mean at each coarse phase of the period.

    Only coarse steps before ``before`` count. The engine draws two profiles:
    one before the forecast history, for the rolling origins (the history's
    own values are what they forecast: a profile drawn from them flatters
    ``seasonal_ses`` in the model choice; measured, chosen for half the
    public cases and worse out of sample), and one from every coarse step,
    for the forecast from the last step.

    None when the period holds fewer than ``MIN_PHASES`` coarse steps or some
    phase was observed fewer than ``MIN_PERIODS`` times.
    """
    history, period = seasonal.history, seasonal.period_seconds
    step = history.step_seconds
    phases = round(period / step) if step > 0 else 0
    if phases < MIN_PHASES or not history.values:
        return None
    values = np.asarray(history.values, dtype=np.float64)
    times = history.start + step * np.arange(values.size)
    phase = np.rint(np.mod(times, period) / step).astype(np.intp) % phases
    seen = np.isfinite(values) & (times < before)
    counts = np.bincount(phase[seen], minlength=phases)
    if counts.min() < MIN_PERIODS:
        return None
    departures = values[seen] - values[seen].mean()
    profile: FloatArray = np.bincount(
        phase[seen], weights=departures, minlength=phases
    ) / np.maximum(counts, 1)
    centred: FloatArray = profile - profile.mean()
    return centred


def at_times(
    profile: FloatArray, seasonal: SeasonalHistory, times: FloatArray
) -> FloatArray:
    """The profile at Unix times, linear between phases, wrapping at the period."""
    step = seasonal.history.step_seconds
    position = np.mod(times, seasonal.period_seconds) / step
    below = np.floor(position)
    share = position - below
    low = below.astype(np.intp) % profile.size
    high = (low + 1) % profile.size
    result: FloatArray = (1 - share) * profile[low] + share * profile[high]
    return result


def profiles(
    histories: Sequence[SeriesHistory],
    width: int,
    horizon: int,
    seasonal: Mapping[str, SeasonalHistory],
) -> FloatArray | None:
    """2 x N x (width + horizon) profiles on each right-aligned history's steps.

    First the profile from before the history, then from the whole coarse
    history (``profile_of``). Column ``width - 1`` is each history's last
    step, the next ``horizon`` the steps ahead. NaN rows: no usable seasonal
    history; None: no row has one.
    """
    if not seasonal:
        return None
    out = np.full((2, len(histories), width + horizon), np.nan)
    found = False
    offsets = np.arange(-width + 1, horizon + 1, dtype=np.float64)
    for row, history in enumerate(histories):
        entry = seasonal.get(history.series.id)
        if entry is None:
            continue
        times = history.end + history.step_seconds * offsets
        earlier = profile_of(entry, float(times[0]))
        whole = profile_of(entry, np.inf)
        if earlier is None or whole is None:
            continue
        out[0, row] = at_times(earlier, entry, times)
        out[1, row] = at_times(whole, entry, times)
        found = True
    return out if found else None
