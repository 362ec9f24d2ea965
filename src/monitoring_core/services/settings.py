"""What an ETL cycle analyses, independent of where the settings come from."""

import attrs

from monitoring_core.selectors import Selector


@attrs.frozen(kw_only=True)
class EtlSettings:
    """The analysis settings of the ETL.

    Attributes:
        selectors: series to compute window statistics (and metadata) for.
        forecast_selectors: series to forecast, on top of any dynamic targets.
        windows: trailing windows in seconds, e.g. ``(3600, 10800, 43200)``.
        horizon_seconds: how far ahead forecasts go.
        forecast_step_seconds: spacing of forecast points and their history.
        forecast_lookback_seconds: history a forecast is fitted on.
        metadata_lookback_seconds: history the metadata analysis reads.
        metadata_step_seconds: grid of that history.
    """

    selectors: tuple[Selector, ...]
    forecast_selectors: tuple[Selector, ...]
    windows: tuple[int, ...] = (3600, 10800, 43200)
    horizon_seconds: int = 600
    forecast_step_seconds: int = 60
    forecast_lookback_seconds: int = 6 * 3600
    metadata_lookback_seconds: int = 24 * 3600
    metadata_step_seconds: int = 300

    @property
    def horizon_steps(self) -> int:
        """Forecast points per series."""
        return self.horizon_seconds // self.forecast_step_seconds
