"""Each atheris harness in bench/fuzz runs a few hundred inputs cleanly (when atheris imports).

The harnesses start together, in a fixture, so their start-up (instrumenting crypto/ and
protocol/, building seeds) overlaps; each test then waits for its own.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz import targets

ROOT = Path(__file__).resolve().parents[2]
HARNESSES = ROOT / "bench" / "fuzz"
RUNS = 300
# Generous: a run takes a few seconds; only a harness stuck on a hang it cannot report stops.
WAIT_SECONDS = 180

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (it builds on Linux, CPython < 3.13 only)",
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.Popen[str]]]:
    # Corpus, seeds and any crash input go to a temporary folder, not to bench/out/.
    env = {**os.environ, "INTAKE_FUZZ_WORKDIR": str(tmp_path_factory.mktemp("atheris"))}
    started = {}
    for name in targets.NAMES:
        command = [sys.executable, str(HARNESSES / f"fuzz_{name}.py"), f"-atheris_runs={RUNS}"]
        started[name] = subprocess.Popen(
            [*command, "-seed=1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    yield started
    for process in started.values():
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_every_target_has_a_harness() -> None:
    found = sorted(p.stem.removeprefix("fuzz_") for p in HARNESSES.glob("fuzz_*.py"))
    assert found == sorted(targets.NAMES)


@pytest.mark.parametrize("name", targets.NAMES)
def test_harness_runs_cleanly(name: str, runs: dict[str, subprocess.Popen[str]]) -> None:
    process = runs[name]
    output, _ = process.communicate(timeout=WAIT_SECONDS)
    tail = "\n".join(output.splitlines()[-30:])
    assert process.returncode == 0, f"fuzz_{name}.py found something:\n{tail}"
    assert f"Done {RUNS} " in output, tail
