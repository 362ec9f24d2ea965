"""The REST API service: stored results over HTTP, served by gunicorn."""
