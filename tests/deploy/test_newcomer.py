"""A newcomer's first commands: `make run` on another port, `make test` with PostgreSQL (W11)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "local-postgres"


def _make_dry_run(*args: str) -> str:
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_run_takes_the_port_and_stays_on_loopback() -> None:
    assert "intake serve --bind 127.0.0.1:8080" in _make_dry_run("run")
    assert "intake serve --bind 127.0.0.1:8081" in _make_dry_run("run", "PORT=8081")


def test_make_test_and_ci_start_postgres_through_the_same_script() -> None:
    assert "scripts/local-postgres" in _make_dry_run("test")
    assert "scripts/local-postgres --install" in (ROOT / ".ci" / "run").read_text()


def test_without_postgres_the_script_says_why_and_prints_no_url(tmp_path: Path) -> None:
    # A PATH with the shell's everyday tools but no PostgreSQL client.
    for tool in ("id", "ls", "sort", "tail", "seq", "sleep", "grep"):
        found = shutil.which(tool)
        assert found is not None
        (tmp_path / tool).symlink_to(found)
    done = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(SCRIPT)],
        capture_output=True, text=True, check=False, env={**os.environ, "PATH": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout == ""
    assert "local-postgres: the PostgreSQL client is not installed" in done.stderr


def test_the_readme_says_where_the_commands_live() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`.venv/bin/intake`" in readme
    assert "make run PORT=8081" in readme
    assert ".venv/bin/triage init demo-ws -i demo-data/demo-investigator.key" in readme
