"""atheris harness: the codename target of tests/fuzz/targets.py (typed errors only, no hang)."""

from _harness import fuzz

if __name__ == "__main__":
    fuzz("codename")
