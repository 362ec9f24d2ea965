"""forecasting adapters."""
