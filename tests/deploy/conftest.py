"""Fixtures and helpers for the deployment tests: the shipped files, parsers, tor run offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DEBIAN_DEFAULTS = Path("/usr/share/tor/tor-service-defaults-torrc")
README = (DEPLOY / "README.md").read_text(encoding="utf-8")


def readme_block(name: str) -> str:
    """The fenced code block right after `<!-- tested: NAME -->` in deploy/README.md."""
    match = re.search(
        rf"<!-- tested: {re.escape(name)} -->\s*```[a-z]*\n(.*?)\n\s*```", README, re.S
    )
    assert match, f"README.md has no tested block {name!r}"
    return "\n".join(line.removeprefix("  ") for line in match.group(1).splitlines()) + "\n"


def directives(text: str) -> list[tuple[str, str]]:
    """`Key value` (torrc) or `Key=value` (systemd) lines in order, without comments or sections."""
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=") if "=" in line.split()[0] else line.partition(" ")
        pairs.append((key.strip(), value.strip()))
    return pairs


def installable_copy(tmp_path: Path, text: str) -> Path:
    """The torrc with its service directories moved into tmp_path, created 0700 as tor wants."""
    for name, path in (
        ("witness", "/var/lib/tor/intake/"),
        ("admin", "/var/lib/tor/intake-admin-ssh/"),
    ):
        target = tmp_path / name
        target.mkdir(mode=0o700)
        text = text.replace(f"HiddenServiceDir {path}", f"HiddenServiceDir {target}/")
    (tmp_path / "data").mkdir(mode=0o700)
    torrc = tmp_path / "torrc"
    torrc.write_text(text, encoding="utf-8")
    return torrc


def checked(argv: list[str]) -> str:
    """`argv`'s stdout; the test fails with all it said when it exits non-zero."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def run_tor(tor: str, tmp_path: Path, torrc: Path, defaults: Path, *action: str) -> str:
    """Run tor offline on the copy (--verify-config and --dump-config open no connection)."""
    return checked(
        [
            *(tor, *action, "-f", str(torrc), "--defaults-torrc", str(defaults)),
            # Not debian-tor (the test is not root) and not /var/lib/tor: everything in tmp_path.
            *("--DataDirectory", str(tmp_path / "data"), "--/User"),
        ]
    )


def defaults_files(tmp_path: Path) -> list[Path]:
    """An empty defaults file, and Debian's service defaults that apply on the real server."""
    empty = tmp_path / "empty-defaults"
    empty.write_text("", encoding="utf-8")
    return [empty, *([DEBIAN_DEFAULTS] if DEBIAN_DEFAULTS.is_file() else [])]


@pytest.fixture
def tor() -> str:
    path = shutil.which("tor")
    if path is None:
        pytest.skip("tor is not installed (make tools installs it from Debian)")
    return path
