"""Tests of intake/transfer: export, purge, replies import and re-wrap, on SQLite and PostgreSQL."""
