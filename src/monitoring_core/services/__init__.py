"""Use cases: what the services do, written against ports only."""
