"""Additive-error exponential smoothing recursions, vectorised over many series."""

from dataclasses import dataclass, fields
from typing import cast

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class GridRun:
    """States and errors of one recursion over N series for G parameter sets.

    Arrays are G x N (parameter set first) so that one time step of the data,
    an N-vector, broadcasts over the parameter sets without copying.

    Attributes:
        level, trend: the states after the last step.
        sse: sum of squared one-step errors over every observed step.
        split_level, split_trend, split_sse: the same after ``split`` steps.
        fitted: one-step forecasts, G x N x T, only when requested.
    """

    level: FloatArray
    trend: FloatArray
    sse: FloatArray
    split_level: FloatArray
    split_trend: FloatArray
    split_sse: FloatArray
    fitted: FloatArray | None


@dataclass(frozen=True)
class Smoothing:
    """G parameter sets of one model; ``beta`` and ``phi`` are None without trend."""

    alpha: FloatArray
    beta: FloatArray | None = None
    phi: FloatArray | None = None


# Arrays of this many elements stay in the L2 cache: several times faster per
# element than one N x G array, and still long enough to hide the Python loop.
CHUNK_ELEMENTS = 32_768


def run_grid(
    values: FloatArray,
    params: Smoothing,
    initial: tuple[FloatArray, FloatArray | None],
    split: int,
    keep_fitted: bool = False,
) -> GridRun:
    """Run ETS(A,N,N) or ETS(A,Ad,N) for every series and parameter set.

    Args:
        values: N x T, NaN where a step has no observation; at a NaN step the
            update is skipped (the one-step forecast stands in for the value).
            Steps before a row's first observation leave the state unchanged.
        params: the G parameter sets.
        initial: level and trend (None without trend) before the first
            observation, N each.
        split: also report the states and errors after this many steps.
        keep_fitted: store the one-step forecasts (memory grows as G x N x T).
    """
    n, steps = values.shape
    observed = ~np.isnan(values)
    # Time-major copies: each step reads one contiguous row.
    y_t = np.where(observed, values, 0.0).T.copy()
    m_t = observed.T.astype(np.float64)
    start = np.where(observed.any(axis=1), observed.argmax(axis=1), steps)
    level0 = initial[0]
    trend0 = initial[1] if initial[1] is not None else np.zeros(n)
    width = max(1, CHUNK_ELEMENTS // params.alpha.shape[0])
    runs = [
        _run_chunk(
            (y_t[:, lo : lo + width], m_t[:, lo : lo + width]),
            start[lo : lo + width],
            _Recursion(params, level0[lo : lo + width], trend0[lo : lo + width]),
            split,
            keep_fitted,
        )
        for lo in range(0, n, width)
    ]
    return runs[0] if len(runs) == 1 else _join(runs)


def _join(runs: list[GridRun]) -> GridRun:
    """Concatenate the results of chunks along the series axis."""
    names = [f.name for f in fields(GridRun) if f.name != "fitted"]
    joined = {k: np.concatenate([getattr(r, k) for r in runs], axis=1) for k in names}
    fitted = [r.fitted for r in runs if r.fitted is not None]
    return GridRun(**joined, fitted=np.concatenate(fitted, axis=1) if fitted else None)


class _Recursion:
    """The state and scratch buffers of one chunk of series, G x n each."""

    def __init__(self, params: Smoothing, level0: FloatArray, trend0: FloatArray):
        shape = (params.alpha.shape[0], level0.shape[0])
        self.level = np.broadcast_to(level0, shape).copy()
        self.trend = np.broadcast_to(trend0, shape).copy()
        self.sse = np.zeros(shape)
        self._f, self._e, self._tmp, self._pb = (np.zeros(shape) for _ in range(4))
        self._alpha = params.alpha[:, None]
        self._trend = params.beta is not None and params.phi is not None
        self._beta = (params.beta if params.beta is not None else params.alpha)[:, None]
        self._phi = (params.phi if params.phi is not None else params.alpha)[:, None]

    def state(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Copies of the level, trend and sum of squared errors."""
        return self.level.copy(), self.trend.copy(), self.sse.copy()

    def step(
        self,
        y: FloatArray,
        seen: FloatArray | None,
        started: NDArray[np.bool_] | None,
        fitted: FloatArray | None,
    ) -> None:
        """One time step: y and seen (1.0 or 0.0) per series, None = all seen."""
        f, e, tmp, pb = self._f, self._e, self._tmp, self._pb
        if self._trend:
            np.multiply(self.trend, self._phi, out=pb)
            np.add(self.level, pb, out=f)
        else:
            f = self.level  # without trend the one-step forecast is the level
        if fitted is not None:
            fitted[...] = f
        np.subtract(y, f, out=e)
        if seen is not None:
            np.multiply(e, seen, out=e)
        np.multiply(e, e, out=tmp)
        np.add(self.sse, tmp, out=self.sse)
        np.multiply(e, self._alpha, out=tmp)
        np.add(f, tmp, out=tmp)
        if self._trend:
            np.multiply(e, self._beta, out=e)
            np.add(pb, e, out=pb)
        if started is None:
            self.level, self._tmp = tmp, self.level  # swap buffers, no copy
            if self._trend:
                self.trend, self._pb = pb, self.trend
            return
        # Rows not yet started keep their initial state.
        np.copyto(self.level, tmp, where=started)
        if self._trend:
            np.copyto(self.trend, pb, where=started)


def _run_chunk(
    data: tuple[FloatArray, FloatArray],
    start: NDArray[np.intp],
    rec: _Recursion,
    split: int,
    keep_fitted: bool,
) -> GridRun:
    y_t, m_t = data
    steps = y_t.shape[0]
    last_start = int(start.max(initial=0))
    all_seen = cast(list[bool], m_t.all(axis=1).tolist())
    fitted = np.empty((*rec.level.shape, steps)) if keep_fitted else None
    split_state = rec.state()
    for t in range(steps):
        if t == split:
            split_state = rec.state()
        rec.step(
            y_t[t],
            None if all_seen[t] else m_t[t],
            t >= start if t < last_start else None,
            fitted[:, :, t] if fitted is not None else None,
        )
    if split >= steps:
        split_state = rec.state()
    return GridRun(rec.level, rec.trend, rec.sse, *split_state, fitted)
