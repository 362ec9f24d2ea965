"""Falcon HTTP adapters."""
