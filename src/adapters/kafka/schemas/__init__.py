"""JSON Schemas of the messages, one per type."""
