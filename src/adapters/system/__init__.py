"""system adapters."""
