"""prometheus adapters."""
