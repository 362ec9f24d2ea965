"""A small pure-Python forecaster: naive or drift, with random-walk intervals."""

import math
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from statistics import NormalDist

import attrs

from monitoring_core.forecasts import Forecast, ForecastPoint
from monitoring_core.metadata import SeriesMetadata
from monitoring_core.ports import Forecaster
from monitoring_core.series import SeriesHistory

Z_80 = NormalDist().inv_cdf(0.90)
Z_95 = NormalDist().inv_cdf(0.975)

Observation = tuple[int, float]
"""A step index on the grid and its value."""


@attrs.frozen
class _Walk:
    """A random walk from the last observation, with an optional drift per step.

    ``span`` is the number of steps the drift was estimated over (0: no drift);
    the drift's own error adds ``h**2 sigma**2 / span`` to the variance (FPP3).
    """

    model: str
    last: Observation
    drift: float
    sigma: float
    span: int

    def mean(self, index: int) -> float:
        return self.last[1] + self.drift * (index - self.last[0])

    def sd(self, index: int) -> float:
        h = index - self.last[0]
        return self.sigma * math.sqrt(h * (1 + h / self.span if self.span else 1))


def _fit(points: list[Observation], model: str) -> _Walk:
    """Fit ``naive`` (no drift) or ``drift`` (mean step) to observations in order.

    Increments across missing steps are divided by the square root of their
    length, so that each one is a one-step random-walk error.
    """
    (i0, v0), last = points[0], points[-1]
    drift = (last[1] - v0) / (last[0] - i0) if model == "drift" else 0.0
    errors = [
        (v2 - v1 - drift * (i2 - i1)) / math.sqrt(i2 - i1)
        for (i1, v1), (i2, v2) in pairwise(points)
    ]
    # The drift is estimated from the same increments: one degree of freedom.
    # Plain sum, not fsum: overflow must give inf (dropped later), not raise.
    dof = len(errors) - (1 if model == "drift" else 0)
    sigma = math.sqrt(sum(e * e for e in errors) / max(dof, 1))
    return _Walk(model, last, drift, sigma, last[0] - i0 if model == "drift" else 0)


class InMemoryForecaster(Forecaster):
    """Naive (last value) or drift forecasts, chosen per series by hold-out error.

    For unit tests and the all-in-one fallback; no numpy. Each model is fitted
    on all but the last ``horizon_steps`` steps and scored by its mean absolute
    error there (a tie goes to ``naive``); the winner is refitted on the whole
    history. Intervals are Gaussian random-walk intervals: the standard
    deviation of one-step changes (around the drift) times ``sqrt(h)``, for
    ``drift`` times ``sqrt(h (1 + h / T))`` to include the drift's error; h
    counts steps from the last observation, so trailing missing steps widen
    them. Missing steps (NaN) are skipped.

    Left out: histories with fewer than ``2 * horizon_steps + min_extra_points``
    observations, none in their last ``horizon_steps`` steps, or a forecast
    that is not finite. The metadata hint is not used.

    Args:
        min_extra_points: observations needed beyond twice the horizon.
    """

    def __init__(self, *, min_extra_points: int = 10):
        self._min_extra_points = min_extra_points

    def forecast(
        self,
        histories: Sequence[SeriesHistory],
        horizon_steps: int,
        made_at: datetime,
        metadata: dict[str, SeriesMetadata],
    ) -> list[Forecast]:
        """Forecast every history that has enough data (see the class docs)."""
        forecasts = (self._one(h, horizon_steps, made_at) for h in histories)
        return [f for f in forecasts if f is not None]

    def _one(
        self, history: SeriesHistory, horizon: int, made_at: datetime
    ) -> Forecast | None:
        n = len(history.values)
        points = [(i, v) for i, v in enumerate(history.values) if not math.isnan(v)]
        train = [p for p in points if p[0] < n - horizon]
        held = points[len(train) :]
        if (
            horizon < 1
            or len(points) < 2 * horizon + self._min_extra_points
            or not held
        ):
            return None
        errors = {
            model: sum(abs(v - _fit(train, model).mean(i)) for i, v in held) / len(held)
            for model in ("naive", "drift")
        }
        model = min(errors, key=lambda m: (errors[m], m != "naive"))
        walk = _fit(points, model)
        future = range(n, n + horizon)
        means = [walk.mean(i) for i in future]
        sds = [walk.sd(i) for i in future]
        if not all(map(math.isfinite, [*means, *sds, errors[model]])):
            return None
        step = history.step_seconds
        return Forecast(
            series=history.series,
            made_at=made_at,
            step_seconds=step,
            model=model,
            holdout_mae=errors[model],
            points=tuple(
                _point(history.end + k * step, m, s)
                for k, (m, s) in enumerate(zip(means, sds, strict=True), start=1)
            ),
        )


def _point(timestamp: float, mean: float, sd: float) -> ForecastPoint:
    return ForecastPoint(
        timestamp=timestamp,
        mean=mean,
        lower_80=mean - Z_80 * sd,
        upper_80=mean + Z_80 * sd,
        lower_95=mean - Z_95 * sd,
        upper_95=mean + Z_95 * sd,
    )
