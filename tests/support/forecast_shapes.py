"""Realistic forecasts: the vectorized ETS engine on histories of typical shapes.

Used by the storage tests and ``bench/storage_size.py``: what the ETL stores
is what it computes, so the sizes measured are those of real forecasts
(``mean``, ``ses`` and ``holt_damped`` models, intervals clamped at 0 for
non-negative series as the ETL does).
"""

import math
import random
from datetime import UTC, datetime

from adapters.forecasting.ets import VectorizedEtsForecaster
from monitoring_core.forecasts import Forecast
from monitoring_core.series import SeriesHistory, SeriesKey
from monitoring_core.value_domains import history_domain

MADE_AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def shape(kind: int, rng: random.Random, n: int) -> list[float]:
    """One of six shapes seen among node-exporter and Prometheus series."""
    level, noise = rng.uniform(0.5, 1000), rng.uniform(0.01, 5)
    if kind == 0:  # noisy level (load, memory)
        return [level + rng.gauss(0, noise) for _ in range(n)]
    if kind == 1:  # random walk
        walk, out = level, []
        for _ in range(n):
            walk += rng.gauss(0, noise)
            out.append(walk)
        return out
    if kind == 2:  # daily-looking wave on a level
        return [level + 10 * math.sin(i / 40) + rng.gauss(0, noise) for i in range(n)]
    if kind == 3:  # trend (a filling disk)
        slope = rng.uniform(-2, 2)
        return [level + slope * i + rng.gauss(0, noise) for i in range(n)]
    if kind == 4:  # small non-negative rate near 0 (intervals clamped at 0)
        return [max(0.0, rng.gauss(0.05, 0.1)) for _ in range(n)]
    return [float(int(level))] * n  # a constant (a fixed limit, a version)


SHAPES = 6
"""How many shapes ``shape`` knows (0 to 5)."""


def forecasts(
    count: int, horizon_steps: int, step_seconds: int, seed: int = 11
) -> list[Forecast]:
    """Up to ``count`` forecasts of ``horizon_steps`` points, shapes in turn."""
    rng = random.Random(seed)
    n = max(360, 3 * horizon_steps + 10)
    end = MADE_AT.timestamp()
    histories = [
        SeriesHistory(
            series=SeriesKey.of("bench_metric", {"i": str(i), "shape": str(i % 6)}),
            start=end - (n - 1) * step_seconds,
            step_seconds=step_seconds,
            values=tuple(shape(i % 6, rng, n)),
        )
        for i in range(count)
    ]
    made = VectorizedEtsForecaster().forecast(histories, horizon_steps, MADE_AT, {})
    values = {h.series: h.values for h in histories}
    return [history_domain(values[f.series]).clamp(f) for f in made]
