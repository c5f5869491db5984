"""`make wheelhouse` installs with no index into a fresh Python 3.11 venv, media extra included.

The air-gapped laptop gets the wheelhouse and nothing else (docs/triage.md, "Offline install"):
this builds it (network allowed: it is the build machine), then installs it as the docs say, in
a new venv of the machine's python3.11 with pip's index and this machine's pip configuration
(local wheel folders, extra indexes) switched off, and runs triage there, PyAV and pdqhash
(built from its sdist) included. And it hands `make wheelhouse` locks whose hashes match no
file on PyPI: the build stops before anything lands in the wheelhouse. Slow: it builds wheels
and venvs, and downloads from PyPI.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# The laptop's Python: Debian 12's. The wheels are for the Python that built them, so
# `make wheelhouse` is handed the same one (its PY; it refuses any other version).
PYTHON = "python3.11"


def _offline_pip_env() -> dict[str, str]:
    """The environment without pip's configuration: no config file, no PIP_* variable (this
    machine sets PIP_FIND_LINKS), so only the wheelhouse can satisfy the install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _make_wheelhouse(wheelhouse: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    """`make wheelhouse` into `wheelhouse`: its build venv comes from the base python3, not
    from the dev venv, which it neither needs nor touches."""
    argv = ["make", "-C", str(ROOT), "wheelhouse", f"PY={PYTHON}", f"WHEELHOUSE={wheelhouse}",
            *overrides]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def _build(wheelhouse: Path) -> None:
    done = _make_wheelhouse(wheelhouse)
    assert done.returncode == 0, f"make wheelhouse failed:\n{done.stdout}\n{done.stderr}"
    # The project's wheel is the last commit's files, whatever else the checkout holds.
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert f"the project's wheel: from commit {head}" in done.stdout, done.stdout


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{argv[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheelhouse_installs_offline_into_a_fresh_venv(tmp_path: Path) -> None:
    python = shutil.which(PYTHON)
    assert python, f"{PYTHON} not found: the wheelhouse is for Debian 12's Python 3.11"
    wheelhouse = tmp_path / "wheelhouse"
    _build(wheelhouse)
    names = sorted(p.name for p in wheelhouse.glob("*.whl"))
    assert any(n.startswith("pdqhash-") for n in names), names  # the sdist, built into a wheel
    assert any(n.startswith("av-") for n in names), names
    assert not any(n.lower().startswith(("flask", "gunicorn", "psycopg")) for n in names)

    env = _offline_pip_env()
    venv = tmp_path / "laptop"
    _run([python, "-m", "venv", str(venv)], tmp_path, env)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    # As docs/triage.md says, from inside the wheelhouse (its lines are wheel file names).
    _run([*pip, "install", "--no-index", "--require-hashes", "-r", "requirements.txt"],
         wheelhouse, env)  # fmt: skip
    # The extra resolves from the wheelhouse alone: nothing left to fetch.
    extra = [*pip, "install", "--no-index", "--find-links", str(wheelhouse),
             "testimony-intake[media]"]  # fmt: skip
    assert "Successfully installed" not in _run(extra, tmp_path, env)
    _run([*pip, "check"], tmp_path, env)

    triage = str(venv / "bin" / "triage")
    assert "media" in _run([triage, "--help"], tmp_path, env)
    _run([triage, "keygen", "-o", "me.key", "--no-passphrase"], tmp_path, env)
    _run([triage, "init", "ws", "-i", "me.key"], tmp_path, env)
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25",
         "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", str(clip)],
        check=True,
    )  # fmt: skip
    # Decoded by PyAV and hashed by pdqhash in the sandboxed child of the new venv: it fails
    # ("could not be decoded", or "PyAV and pdqhash are needed") unless both work there.
    said = _run([triage, "media", "similar", "-w", "ws", str(clip)], tmp_path, env)
    assert "no imported file shows the same picture or video" in said


def _lock_entry(lock: Path, name: str, *, tampered: bool) -> str:
    """`name`'s entry in `lock` (with its hashes), or the same with every hash replaced by one
    no file on PyPI has: what a re-uploaded or substituted release looks like to pip."""
    entry = next(e for e in re.split(r"(?<!\\)\n", lock.read_text(encoding="utf-8"))
                 if e.startswith(f"{name}=="))  # fmt: skip
    fake = hashlib.sha256(b"not the file the lock was made from").hexdigest()
    return re.sub(r"sha256:[0-9a-f]{64}", f"sha256:{fake}", entry) if tampered else entry


# Which lock lies: the tools that build (setuptools' companion `wheel`) or what the laptop runs
# (mdurl). Small packages, so pip's refusal costs a venv and a download of a few kilobytes.
@pytest.mark.parametrize("tampered", ["build", "laptop"])
def test_a_file_whose_hash_the_lock_does_not_pin_stops_make_wheelhouse(
    tmp_path: Path, tampered: str
) -> None:
    deploy = ROOT / "deploy"
    build_lock = tmp_path / "build-lock.txt"
    build_lock.write_text(
        _lock_entry(
            deploy / "triage-build-requirements.txt", "wheel", tampered=tampered == "build"
        ),
        encoding="utf-8",
    )
    lock = tmp_path / "lock.txt"
    lock.write_text(
        _lock_entry(deploy / "triage-requirements.txt", "mdurl", tampered=True), encoding="utf-8"
    )
    wheelhouse = tmp_path / "wheelhouse"
    done = _make_wheelhouse(wheelhouse, f"TRIAGE_LOCK={lock}", f"TRIAGE_BUILD_LOCK={build_lock}")
    assert done.returncode != 0
    assert "DO NOT MATCH THE HASHES" in done.stderr, done.stderr
    assert ("wheel==" if tampered == "build" else "mdurl==") in done.stderr
    # Nothing reaches the laptop's set: no wheel, no requirements.txt to install from.
    assert not list(wheelhouse.iterdir())
