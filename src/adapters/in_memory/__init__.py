"""in_memory adapters."""
