"""Alembic migrations; `app.migrate` runs them."""
