"""Tests of protocol.meta: every bundle kind's meta, its golden files and its versions."""
