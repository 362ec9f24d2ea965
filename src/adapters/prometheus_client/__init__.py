"""Exposing the service's own metrics with prometheus_client."""
