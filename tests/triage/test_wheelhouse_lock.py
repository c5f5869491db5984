"""The wheelhouse's locks: what `make wheelhouse` may fetch for the laptop, pinned with hashes.

deploy/triage-requirements.txt pins triage's dependencies (the base ones and the media extra)
and deploy/triage-build-requirements.txt the tools that build pdqhash's sdist and the project's
wheel; both are made by `make lock` (pip-compile on PyPI). Checked offline, as the server's lock
is (tests/deploy/test_requirements_lock.py): that they still cover pyproject.toml, that every line
carries a hash, that they were made for Python 3.11, and that the Makefile builds with them and
with nothing unpinned: not in the dev venv, not with this machine's pip configuration, and not
from files the last commit does not hold. pip-tools itself, which makes them, is pinned the same
way (deploy/lock-tools-requirements.txt).
"""

from __future__ import annotations

import os
import subprocess
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
TOOLS_LOCK = ROOT / "deploy" / "lock-tools-requirements.txt"
TOOLS_IN = ROOT / "deploy" / "lock-tools-requirements.in"
SERVER_LOCK = ROOT / "deploy" / "requirements.txt"
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# What the laptop must never carry: the web stack (the server's extra) and the test tools.
NOT_ON_THE_LAPTOP = ("flask", "gunicorn", "psycopg", "alembic", "pytest", "playwright")


def _triage_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["media"]]
    return [Requirement(text) for text in wanted]


def _listed(in_file: Path) -> list[Requirement]:
    lines = in_file.read_text(encoding="utf-8").splitlines()
    return [Requirement(t) for t in lines if t.strip() and not t.startswith(("#", "-"))]


def _build_requirements() -> list[Requirement]:
    """The project's [build-system] requires and the .in file's own lines (pdqhash's)."""
    return [*map(Requirement, PYPROJECT["build-system"]["requires"]), *_listed(BUILD_IN)]


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


def test_every_line_of_every_lock_carries_a_hash() -> None:
    _assert_every_line_hashed(LOCK)
    _assert_every_line_hashed(BUILD_LOCK)
    _assert_every_line_hashed(TOOLS_LOCK)


def test_pip_tools_is_pinned_to_one_release() -> None:
    (pin,) = _listed(TOOLS_IN)
    assert str(pin.specifier).startswith("=="), pin  # a new pip-tools is a reviewed edit
    _assert_pinned_within(TOOLS_LOCK, [pin])
    assert {"pip", "click", "build"} <= locked_entries(TOOLS_LOCK.read_text("utf-8")).keys()


def test_every_lock_was_made_for_debian_12s_python() -> None:
    # On 3.12 `--upgrade` resolves to releases that dropped 3.11 (PyAV 19): the lock would not
    # install on the server or the laptop.
    for lock in (LOCK, BUILD_LOCK, TOOLS_LOCK, SERVER_LOCK):
        header = lock.read_text(encoding="utf-8").split("\n#\n", 1)[0]
        assert "autogenerated by pip-compile with Python 3.11\n" in header, (lock.name, header)


def _recipe(target: str) -> list[str]:
    """The target's recipe, one command a line (continuation lines joined); the target has no
    prerequisite (`venv` would fill the dev venv, unpinned, for nothing)."""
    body = MAKEFILE.split(f"\n{target}:\n", 1)[1].split("\n\n", 1)[0]
    return [" ".join(cmd.split()) for cmd in body.replace("\\\n", " ").splitlines()]


def _assert_outside_the_dev_venv(target: str, env: str) -> list[str]:
    """The recipe checks for Python 3.11 first, makes `env` from the base interpreter in
    isolated mode (no user site, no PYTHON* variable), and never runs the dev venv's tools."""
    recipe = _recipe(target)
    assert recipe[0] == "$(NEED_PY311)", recipe
    assert f"$(PY) -I -m venv {env}" in recipe, recipe
    assert not [cmd for cmd in recipe if "$(BIN)" in cmd or "$(VENV)" in cmd], recipe
    return recipe


FROM_THE_COMMIT = "--no-deps -w $(WHEELHOUSE) $(WHEEL_ENV)/src"


def test_make_wheelhouse_fetches_only_what_the_locks_pin() -> None:
    assert "TRIAGE_LOCK ?= deploy/triage-requirements.txt" in MAKEFILE
    assert "TRIAGE_BUILD_LOCK ?= deploy/triage-build-requirements.txt" in MAKEFILE
    recipe = _assert_outside_the_dev_venv("wheelhouse", "$(WHEEL_ENV)")
    assert (
        "WHEEL_PIP = $(PYPI_ONLY) $(WHEEL_ENV)/bin/python -I -m pip $(PIP_ISOLATED) \\\n"
        in MAKEFILE
    )
    pips = [cmd for cmd in recipe if "$(WHEEL_PIP)" in cmd]
    assert len(pips) == 3, pips
    for cmd in pips:
        fetches = "--no-index" not in cmd
        # Fetching from an index only with every file's hash; the project's own wheel is built
        # without its dependencies (they are the lock's) from the last commit's files.
        assert ("--require-hashes -" in cmd) if fetches else cmd.endswith(FROM_THE_COMMIT)
        if " wheel " in cmd:  # building: with the pinned tools of the build venv, not fetched ones
            assert "--no-build-isolation" in cmd, cmd
    assert "--require-hashes --no-deps -r $(TRIAGE_BUILD_LOCK)" in pips[0]
    assert "-r $(TRIAGE_LOCK)" in pips[1]
    assert "mkdir $(WHEEL_ENV)/src && git archive HEAD | tar -x -C $(WHEEL_ENV)/src" in recipe


def test_make_lock_runs_the_hash_pinned_pip_tools_in_its_own_venv() -> None:
    recipe = _assert_outside_the_dev_venv("lock", "$(LOCK_ENV)")
    (install,) = [cmd for cmd in recipe if "-m pip" in cmd]
    assert install.startswith("$(PYPI_ONLY) $(LOCK_ENV)/bin/python -I -m pip $(PIP_ISOLATED) ")
    assert install.endswith("--require-hashes --no-deps -r $(LOCK_TOOLS_LOCK)"), install
    runs = "PIP_COMPILE = $(PYPI_ONLY) CUSTOM_COMPILE_COMMAND='make lock' \\\n\t$(LOCK_ENV)/bin/"
    assert runs + "pip-compile" in MAKEFILE
    compiled = {cmd.split("--output-file ")[1] for cmd in recipe if "$(PIP_COMPILE)" in cmd}
    assert compiled == {
        "$(LOCK) pyproject.toml",
        "$(TRIAGE_LOCK) pyproject.toml",
        "$(TRIAGE_BUILD_LOCK) deploy/triage-build-requirements.in",
        "$(LOCK_TOOLS_LOCK) deploy/lock-tools-requirements.in",
    }


def _make(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "-C", str(ROOT), *argv],
                          env=env, capture_output=True, text=True, check=False)  # fmt: skip


def test_pypi_only_leaves_pip_no_variable_and_no_config_file(tmp_path: Path) -> None:
    # pip --isolated still reads /etc/pip.conf; pip-compile and `build`'s pip take no
    # --isolated. What PYPI_ONLY hands them, with variables this machine sets and others.
    extra = tmp_path / "show.mk"
    extra.write_text("show-env:\n\t$(PYPI_ONLY) env\n", encoding="utf-8")
    env = {**os.environ, "PIP_FIND_LINKS": "/opt/wheels", "PIP_NO_INDEX": "1", "PIP_X_Y": "z"}
    # -I covers only the first Python; pip's build subprocesses and pip-compile would still
    # take a developer's PYTHONPATH (review of d51fbe7).
    env |= {"PYTHONPATH": "/tmp/elsewhere", "PYTHONHOME": "/tmp/other", "PYTHONSTARTUP": "x"}
    done = _make("-f", "Makefile", "-f", str(extra), "show-env", env=env)
    assert done.returncode == 0, done.stderr
    pip_vars = sorted(line for line in done.stdout.splitlines() if line.startswith("PIP_"))
    assert pip_vars == ["PIP_CONFIG_FILE=/dev/null"]
    assert not [line for line in done.stdout.splitlines() if line.startswith("PYTHON")]
    assert "PIP_ISOLATED := --isolated " in MAKEFILE


def test_lock_and_wheelhouse_refuse_another_python_before_doing_anything(tmp_path: Path) -> None:
    # A Python that is not 3.11 (here one that only says so), named on make's command line.
    python = tmp_path / "python3.12"
    python.write_text('#!/bin/sh\n[ "$2" = -V ] && echo Python 3.12.1 && exit\nexit 1\n', "utf-8")
    python.chmod(0o755)
    for target in ("lock", "wheelhouse"):
        env = {**os.environ, "MAKEFLAGS": ""}
        done = _make(target, f"PY={python}", f"WHEELHOUSE={tmp_path / 'wh'}", env=env)
        assert done.returncode != 0
        assert f"make {target} needs Python 3.11" in done.stderr, done.stderr
        assert "is Python 3.12.1: run make" in done.stderr, done.stderr
    assert not (ROOT / ".lock-env").exists()
    assert list(tmp_path.iterdir()) == [python]
