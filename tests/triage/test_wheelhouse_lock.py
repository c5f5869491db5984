"""The wheelhouse's locks: what `make wheelhouse` may fetch for the laptop, pinned with hashes.

deploy/triage-requirements.txt pins triage's dependencies (the base ones and the media extra)
and deploy/triage-build-requirements.txt the tools that build pdqhash's sdist and the project's
wheel; both are made by `make lock` (pip-compile on PyPI). Checked offline, as the server's lock
is (tests/deploy/test_requirements_lock.py): that they still cover pyproject.toml, that every line
carries a hash, and that the Makefile builds with them and with nothing unpinned.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.test_requirements_lock import HASH, locked_entries

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "deploy" / "triage-requirements.txt"
BUILD_LOCK = ROOT / "deploy" / "triage-build-requirements.txt"
BUILD_IN = ROOT / "deploy" / "triage-build-requirements.in"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# What the laptop must never carry: the web stack (the server's extra) and the test tools.
NOT_ON_THE_LAPTOP = ("flask", "gunicorn", "psycopg", "alembic", "pytest", "playwright")


def _triage_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["media"]]
    return [Requirement(text) for text in wanted]


def _build_requirements() -> list[Requirement]:
    """The project's [build-system] requires and the .in file's own lines (pdqhash's)."""
    lines = BUILD_IN.read_text(encoding="utf-8").splitlines()
    listed = [line for line in lines if line.strip() and not line.startswith(("#", "-"))]
    return [Requirement(t) for t in [*PYPROJECT["build-system"]["requires"], *listed]]


def _assert_pinned_within(lock: Path, requirements: list[Requirement]) -> None:
    locked = locked_entries(lock.read_text(encoding="utf-8"))
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in {lock.name}: run make lock"
        version = Version(locked[name][0])
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} does not satisfy {requirement.specifier}: run make lock"
        )


def _assert_every_line_hashed(lock: Path) -> None:
    text = lock.read_text(encoding="utf-8")
    for name, (_version, body) in locked_entries(text).items():
        assert HASH.search(body), f"{name} has no --hash: pip --require-hashes would refuse it"
    assert "-e " not in text
    assert "--index-url" not in text
    assert "file://" not in text
    assert "make lock" in text  # the header says how to remake it


def test_every_triage_dependency_is_pinned_within_its_range() -> None:
    _assert_pinned_within(LOCK, _triage_requirements())
    locked = locked_entries(LOCK.read_text(encoding="utf-8"))
    assert {"av", "pdqhash", "numpy", "pynacl", "cffi"} <= locked.keys()
    assert not [n for n in locked if n.startswith(NOT_ON_THE_LAPTOP)], sorted(locked)


def test_every_build_tool_is_pinned_and_builds_against_the_laptops_numpy() -> None:
    _assert_pinned_within(BUILD_LOCK, _build_requirements())
    built_with = locked_entries(BUILD_LOCK.read_text(encoding="utf-8"))
    runs_with = locked_entries(LOCK.read_text(encoding="utf-8"))
    assert {"setuptools", "wheel", "cython", "numpy"} <= built_with.keys()
    # pdqhash is compiled against the headers of the numpy it will be imported with.
    assert built_with["numpy"][0] == runs_with["numpy"][0]


def test_every_line_of_both_locks_carries_a_hash() -> None:
    _assert_every_line_hashed(LOCK)
    _assert_every_line_hashed(BUILD_LOCK)


def _recipe(makefile: str, target: str) -> list[str]:
    """The target's recipe, one command a line (continuation lines joined)."""
    body = makefile.split(f"\n{target}: venv\n", 1)[1].split("\n\n", 1)[0]
    return [" ".join(cmd.split()) for cmd in body.replace("\\\n", " ").splitlines()]


def test_make_wheelhouse_fetches_only_what_the_locks_pin() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "TRIAGE_LOCK ?= deploy/triage-requirements.txt" in makefile
    assert "TRIAGE_BUILD_LOCK ?= deploy/triage-build-requirements.txt" in makefile
    pips = [cmd for cmd in _recipe(makefile, "wheelhouse") if "$(WHEEL_PIP)" in cmd]
    assert len(pips) == 3, pips
    for cmd in pips:
        fetches = "--no-index" not in cmd
        # Fetching from an index only with every file's hash; the project's own wheel is built
        # from this tree without its dependencies (they are the lock's).
        assert ("--require-hashes -" in cmd) if fetches else re.search(r"--no-deps .* \.$", cmd)
        if " wheel " in cmd:  # building: with the pinned tools of the build venv, not fetched ones
            assert "--no-build-isolation" in cmd, cmd
    assert "--require-hashes --no-deps -r $(TRIAGE_BUILD_LOCK)" in pips[0]
    assert "-r $(TRIAGE_LOCK)" in pips[1]
    lock = _recipe(makefile, "lock")
    assert any("--extra media --output-file $(TRIAGE_LOCK) pyproject.toml" in c for c in lock)
    assert any("--output-file $(TRIAGE_BUILD_LOCK) deploy/triage-build" in c for c in lock)
