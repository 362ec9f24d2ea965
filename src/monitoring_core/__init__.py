"""Pure domain of the monitoring system: series, windows, metadata, forecasts, SLOs."""
