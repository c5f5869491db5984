"""atheris harnesses, one script per target of tests/fuzz/targets.py (docs/reliability-fuzz.md)."""
