"""Alembic's script folder, installed as the package linktracker.migrations."""
