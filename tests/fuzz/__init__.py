"""Fuzz tests: hostile bytes and documents get our typed errors, never another exception."""
