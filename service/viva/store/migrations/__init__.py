"""Alembic migrations, shipped inside the package so start-up can apply them anywhere."""
