"""atheris harness: the bundle target of tests/fuzz/targets.py (typed errors only, no hang)."""

import sys
from pathlib import Path

# Run as a script, so only bench/fuzz is on sys.path: the harness and its targets
# (tests.fuzz.targets) are imported as packages from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.fuzz._harness import fuzz

if __name__ == "__main__":
    fuzz("bundle")
