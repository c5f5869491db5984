"""Benchmarks and fuzzing harnesses, run by hand as scripts (bench/README.md); not shipped."""
