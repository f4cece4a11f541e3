"""Alembic environment and versions for the memeloop schema (run via `memeloop db upgrade`)."""
