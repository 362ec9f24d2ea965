"""Value domains: which series cannot go negative, and forecasts kept inside them.

The rule (ADR 0017, docs/forecasting.md): the per-second rate of a cumulative
series is never negative; any other series is taken as non-negative when every measured
value of the history it was forecast from is at least 0. Everything else may
take any value.

A forecast is kept inside a domain by raising its point forecasts and interval
bounds to the domain's lower bound. That is the forecast of ``max(lower, X)``
(the predictive distribution censored at the bound): a value the series cannot
take moves onto the bound, so every interval keeps the coverage it had, and a
point forecast moved up to the bound is never further from any possible value.
"""

from collections.abc import Iterable, Sequence

import attrs

from monitoring_core.forecasts import Band, Forecast, ForecastPoint
from monitoring_core.series import SeriesHistory, SeriesInfo, ValueKind


@attrs.frozen
class ValueDomain:
    """The values a series can take: at least ``lower``, or anything.

    Attributes:
        lower: the smallest possible value; None when there is none.
    """

    lower: float | None = None

    def contains(self, point: ForecastPoint) -> bool:
        """Whether the point's forecast and every bound lie inside the domain."""
        if self.lower is None:
            return True
        lowest = min(point.mean, point.lower_80, point.lower_95)
        for band in (point.running_max, point.running_min):
            if band is not None:
                lowest = min(lowest, band.lower_95)
        return lowest >= self.lower

    def clamp(self, forecast: Forecast) -> Forecast:
        """The forecast with every value below ``lower`` raised to it.

        Returns the same object when nothing lies below (the common case).
        """
        lower = self.lower
        average = forecast.average
        if lower is None or (
            all(self.contains(p) for p in forecast.points)
            and (average is None or average.lower_95 >= lower)
        ):
            return forecast
        points = tuple(
            ForecastPoint(
                timestamp=p.timestamp,
                mean=max(lower, p.mean),
                lower_80=max(lower, p.lower_80),
                upper_80=max(lower, p.upper_80),
                lower_95=max(lower, p.lower_95),
                upper_95=max(lower, p.upper_95),
                running_max=_clamped(p.running_max, lower),
                running_min=_clamped(p.running_min, lower),
            )
            for p in forecast.points
        )
        return attrs.evolve(forecast, points=points, average=_clamped(average, lower))


def _clamped(band: Band | None, lower: float) -> Band | None:
    return None if band is None else band.clamped(lower)


ANY_VALUE = ValueDomain()
NON_NEGATIVE = ValueDomain(0.0)


def history_domain(values: Iterable[float]) -> ValueDomain:
    """Non-negative when some value was measured and none is below 0.

    NaN (a missing step) is ignored. The known weakness: a series that has not
    been negative *so far* is assumed never to be.
    """
    measured = False
    for value in values:
        if value < 0:
            return ANY_VALUE
        measured = measured or value == value  # NaN compares unequal to itself
    return NON_NEGATIVE if measured else ANY_VALUE


def series_domain(info: SeriesInfo, history: Iterable[float]) -> ValueDomain:
    """The domain of a series from how it is analysed and its history.

    Args:
        info: the series and its kind; a cumulative series (counter, histogram,
            a summary's ``_count`` and ``_sum``) is analysed as its per-second
            rate, which PromQL's ``rate()`` never makes negative.
        history: the values the forecast was made from.
    """
    if info.value_kind is ValueKind.PER_SECOND_RATE:
        return NON_NEGATIVE
    return history_domain(history)


def keep_in_domains(
    forecasts: Sequence[Forecast],
    series: Sequence[SeriesInfo],
    histories: Sequence[SeriesHistory],
) -> list[Forecast]:
    """Each forecast kept inside the domain of its series.

    The domain is only worked out for the few forecasts that go below 0, so
    thousands of series cost one pass over their points. A forecast of a series
    missing from ``series`` or ``histories`` is left as it is.
    """
    kinds = {info.key: info for info in series}
    values = {h.series: h.values for h in histories}
    out = []
    for forecast in forecasts:
        info, history = kinds.get(forecast.series), values.get(forecast.series)
        average = forecast.average
        below = not all(NON_NEGATIVE.contains(p) for p in forecast.points) or (
            average is not None and average.lower_95 < 0
        )
        if below and info is not None and history is not None:
            forecast = series_domain(info, history).clamp(forecast)
        out.append(forecast)
    return out
