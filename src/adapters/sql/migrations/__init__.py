"""Alembic migrations of the result tables (run through ``adapters.sql.migrate``)."""
