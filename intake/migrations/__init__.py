"""Alembic migrations for the intake schema (env.py, versions/); run through intake.schema."""
