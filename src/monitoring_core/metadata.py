"""Descriptive metadata of a series: stationarity, autocorrelation, seasonality."""

from datetime import datetime
from enum import StrEnum

import attrs

from monitoring_core.series import SeriesHistory, SeriesKey


class Stationarity(StrEnum):
    """The combined verdict of the ADF and KPSS tests.

    ADF's null is a unit root, KPSS's null is stationarity; read together they
    separate four cases (as in the statsmodels guide to stationarity).
    """

    STATIONARY = "stationary"
    NON_STATIONARY = "non_stationary"
    TREND_STATIONARY = "trend_stationary"
    DIFFERENCE_STATIONARY = "difference_stationary"
    INSUFFICIENT_DATA = "insufficient_data"


@attrs.frozen(kw_only=True)
class StationarityTest:
    """One hypothesis test: its statistic, p-value and what it says at 5 %."""

    statistic: float
    p_value: float
    stationary: bool


@attrs.frozen(kw_only=True)
class Seasonality:
    """The dominant period, if any, and its strength (the ACF at that lag)."""

    period_seconds: int | None
    strength: float | None


@attrs.frozen(kw_only=True)
class SeriesMetadata:
    """What the daily analysis found about one series.

    Attributes:
        series: which series.
        computed_at: when the analysis ran.
        lookback_seconds, step_seconds: the grid the analysis used.
        sample_count: non-missing points on that grid.
        stationarity: the combined verdict, ``insufficient_data`` when the
            series is empty, constant or too short.
        reason: why the data was insufficient, else None.
        adf, kpss: the two tests, None when not run.
        acf: autocorrelation at lags 0..n (lag 0 is 1).
        acf_significant_lags: lags whose ACF is outside the 95 % band.
        seasonality: the dominant period or none.
    """

    series: SeriesKey
    computed_at: datetime
    lookback_seconds: int
    step_seconds: int
    sample_count: int
    stationarity: Stationarity
    reason: str | None = None
    adf: StationarityTest | None = None
    kpss: StationarityTest | None = None
    acf: tuple[float, ...] = ()
    acf_significant_lags: tuple[int, ...] = ()
    seasonality: Seasonality = Seasonality(period_seconds=None, strength=None)


@attrs.frozen(kw_only=True)
class SeasonalHistory:
    """A longer, coarser history of a series whose period outlasts its forecast
    history (ADR 0050): the forecast reads its seasonal profile from it.

    Attributes:
        history: the coarse history (e.g. 5-minute steps over three days),
            ending at or before the forecast history's last step.
        period_seconds: the period metadata found (e.g. a day).
    """

    history: SeriesHistory
    period_seconds: int
