"""deploy/requirements.txt: every server dependency pinned, with hashes, as `make lock` makes it.

Checked offline: the lock is made by `make lock` (pip-compile on PyPI); CI only makes sure it
still covers pyproject.toml and that `pip install --require-hashes` will accept every line.
"""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy.conftest import DEPLOY, REPO

LOCK = DEPLOY / "requirements.txt"
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def locked_entries(text: str) -> dict[str, tuple[str, str]]:
    """name -> (pinned version, the entry's whole text with its continuation lines)."""
    entries: dict[str, tuple[str, str]] = {}
    for entry in re.split(r"(?<!\\)\n", text):
        body = entry.split("#", 1)[0] if entry.lstrip().startswith("#") else entry
        if not body.strip():
            continue
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s\\;]+)", body)
        assert match, f"not a pinned requirement: {body!r}"
        entries[canonicalize_name(match.group(1))] = (match.group(2), body)
    return entries


def server_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["server"]]
    return [Requirement(text) for text in wanted]


def test_every_server_dependency_is_pinned_within_its_range() -> None:
    locked = locked_entries(LOCK.read_text(encoding="utf-8"))
    for requirement in server_requirements():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in {LOCK.name}: run make lock"
        version = Version(locked[name][0])
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} does not satisfy {requirement.specifier}: run make lock"
        )
        for extra in requirement.extras:  # psycopg[binary] brings psycopg-binary
            assert canonicalize_name(f"{name}-{extra}") in locked, f"{name}[{extra}]"


def test_every_line_carries_a_hash_and_nothing_is_unpinned() -> None:
    text = LOCK.read_text(encoding="utf-8")
    entries = locked_entries(text)
    assert len(entries) >= len(server_requirements())
    for name, (_version, body) in entries.items():
        assert HASH.search(body), f"{name} has no --hash: pip --require-hashes would refuse it"
    assert "-e " not in text
    assert "--index-url" not in text  # resolved on PyPI; the operator's pip config decides
    assert "file://" not in text
    assert "make lock" in text  # the header says how to remake it


def test_the_lock_parser_refuses_an_unpinned_line() -> None:
    entries = locked_entries("flask==3.1.3 \\\n    --hash=sha256:" + "a" * 64 + "\n")
    assert entries["flask"][0] == "3.1.3"
    with pytest.raises(AssertionError, match="not a pinned requirement"):
        locked_entries("flask>=3\n")


def test_the_deploy_readme_installs_with_require_hashes() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    installs = [line for line in readme.splitlines() if "bin/pip install" in line]
    assert installs
    for line in installs:
        assert "--require-hashes -r" in line or "--no-deps" in line, line


def test_make_lock_builds_the_file_with_hashes() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    # No `venv` prerequisite: pip-compile runs in its own hash-pinned venv, not the dev one
    # (tests/triage/test_wheelhouse_lock.py checks how).
    assert "\nlock:\n\t$(NEED_PY311)\n" in makefile
    assert "--generate-hashes" in makefile
    assert "--output-file $(LOCK)" in makefile
    assert "LOCK := deploy/requirements.txt" in makefile
