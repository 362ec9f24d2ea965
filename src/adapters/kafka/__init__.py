"""kafka adapters."""
