"""Thin services and their wiring: one package per service, plus the CLI."""
