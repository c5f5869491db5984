"""Shared fixtures for every layer's tests."""
