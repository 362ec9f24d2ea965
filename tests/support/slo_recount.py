"""An independent recount of time-slice SLO figures from raw samples.

Written from the definitions (docs: /work/shared/reference/slo-semantics.md and
the rules in the module docstrings of the ``monitoring_core.slo`` package) without
importing it, in integer milliseconds, so that it can be a reference for it. Episodes
are found differently: bad slices are grouped when they have the same side and
only unmeasured slices lie between them.
"""

import math
from collections.abc import Sequence
from typing import Any

Samples = Sequence[tuple[int, float]]
Figures = dict[str, Any]

GOOD, ABOVE, BELOW, UNMEASURED = "good", "above", "below", "unmeasured"


def aligned_end(now_ms: int, slice_seconds: int) -> int:
    """The end of the last complete slice, slices aligned to Unix time."""
    step = slice_seconds * 1000
    return now_ms // step * step


def extremes(
    samples: Samples, start: int, slice_seconds: int, count: int
) -> list[tuple[float, float] | None]:
    """``(min, max)`` of each slice of ``[start, start + count·Δ)``, None if empty."""
    step = slice_seconds * 1000
    buckets: list[list[float]] = [[] for _ in range(count)]
    for t, v in samples:
        if start <= t < start + count * step and not math.isnan(v):
            buckets[(t - start) // step].append(v)
    return [(min(b), max(b)) if b else None for b in buckets]


def state(
    extreme: tuple[float, float] | None, lo: float | None, hi: float | None
) -> str:
    if extreme is None:
        return UNMEASURED
    low, high = extreme
    over = high - hi if hi is not None and high > hi else None
    under = lo - low if lo is not None and low < lo else None
    if over is not None and (under is None or over >= under):
        return ABOVE
    return BELOW if under is not None else GOOD


def _bridgeable(states: Sequence[str], last: int, current: int) -> bool:
    same = states[last] == states[current]
    return same and all(s == UNMEASURED for s in states[last + 1 : current])


def episodes(
    states: Sequence[str],
    slice_extremes: Sequence[tuple[float, float] | None],
    lo: float | None,
    hi: float | None,
    start: int,
    slice_seconds: int,
) -> list[Figures]:
    """Runs of same-side bad slices with only unmeasured slices between them."""
    groups: list[list[int]] = []
    for i, s in enumerate(states):
        if s not in (ABOVE, BELOW):
            continue
        if groups and _bridgeable(states, groups[-1][-1], i):
            groups[-1].append(i)
        else:
            groups.append([i])
    return [
        _episode(g, states, slice_extremes, lo, hi, start, slice_seconds)
        for g in groups
    ]


def _episode(
    group: list[int],
    states: Sequence[str],
    slice_extremes: Sequence[tuple[float, float] | None],
    lo: float | None,
    hi: float | None,
    start: int,
    slice_seconds: int,
) -> Figures:
    side = states[group[0]]
    first, last = group[0], group[-1]
    picked = [slice_extremes[i] for i in group]
    if side == ABOVE and hi is not None:
        worst = max(e[1] for e in picked if e is not None)
        distance = worst - hi
    else:
        assert lo is not None
        worst = min(e[0] for e in picked if e is not None)
        distance = lo - worst
    step = slice_seconds * 1000
    return {
        "side": side,
        "start": (start + first * step) / 1000,
        "end": (start + (last + 1) * step) / 1000,
        "duration_seconds": float((last + 1 - first) * slice_seconds),
        "open": all(s == UNMEASURED for s in states[last + 1 :]),
        "bad_slices": len(group),
        "unmeasured_slices": last + 1 - first - len(group),
        "worst_value": worst,
        "worst_distance": distance,
    }


def window(
    samples: Samples,
    *,
    lo: float | None,
    hi: float | None,
    target: float,
    slice_seconds: int,
    end: int,
    window_seconds: int,
    coverage_floor: float = 0.9,
) -> Figures:
    """Every figure of one series over the window ``[end - W, end)``."""
    count = window_seconds // slice_seconds
    start = end - count * slice_seconds * 1000
    found = extremes(samples, start, slice_seconds, count)
    states = [state(e, lo, hi) for e in found]
    good, above, below = (states.count(s) for s in (GOOD, ABOVE, BELOW))
    bad, measured = above + below, good + above + below
    budget = (1 - target) * measured
    return {
        "start": start / 1000,
        "end": end / 1000,
        "total_slices": count,
        "good_slices": good,
        "above_slices": above,
        "below_slices": below,
        "unmeasured_slices": count - measured,
        "excursions": bad,
        "coverage": measured / count,
        "sli": good / measured if measured else None,
        "gap": good / measured - target if measured else None,
        "budget_slices": budget,
        "budget_minutes": budget * slice_seconds / 60,
        "budget_remaining": 1 - bad / budget if budget > 0 else None,
        "budget_remaining_minutes": (budget - bad) * slice_seconds / 60,
        "burn_rate": bad / measured / (1 - target) if measured else None,
        "breached": measured > 0 and good / measured < target,
        "insufficient_data": measured / count < coverage_floor,
        "episodes": episodes(states, found, lo, hi, start, slice_seconds),
    }
