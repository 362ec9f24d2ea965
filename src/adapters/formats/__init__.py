"""Formats shared by several adapters; imports no adapter, so any adapter may use it."""
