"""Docs cannot drift: every `triage … --help` output quoted in README.md is the real output."""

from __future__ import annotations

import re
from itertools import takewhile
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import triage

README = Path(__file__).resolve().parents[3] / "README.md"
# The help texts README.md must quote (the commands an investigator meets first).
QUOTED = {(), ("encrypt",), ("decrypt",)}

_TEXT_BLOCK = re.compile(r"^```text\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _lines(text: str) -> list[str]:
    """Lines without trailing spaces (markdown does not keep them) or trailing blank lines."""
    return [line.rstrip() for line in text.rstrip().splitlines()]


def _quoted_help() -> dict[tuple[str, ...], str]:
    """Each quoted help text, keyed by its subcommand path (() for `triage --help`)."""
    found: dict[tuple[str, ...], str] = {}
    for block in _TEXT_BLOCK.findall(README.read_text(encoding="utf-8")):
        if not block.startswith("Usage: triage"):
            continue
        words = block.splitlines()[0].split()[2:]  # after "Usage: triage"
        path = tuple(takewhile(lambda w: re.fullmatch(r"[a-z][a-z-]*", w) is not None, words))
        assert path not in found, f"README.md quotes 'triage {' '.join(path)} --help' twice"
        found[path] = block
    return found


def test_readme_quotes_the_help_of_triage_encrypt_and_decrypt():
    assert set(_quoted_help()) >= QUOTED, "README.md lacks a ```text block of some --help"


_QUOTED = sorted(_quoted_help().items())


@pytest.mark.parametrize(
    ("path", "quoted"), _QUOTED, ids=[" ".join(("triage", *path)) for path, _ in _QUOTED]
)
def test_quoted_help_is_the_real_help(runner: CliRunner, path: tuple[str, ...], quoted: str):
    # COLUMNS fixes the width: click wraps help at min(terminal width, 80) - 2 columns.
    result = runner.invoke(triage, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert _lines(quoted) == _lines(result.stdout), (
        f"README.md quotes an outdated 'triage {' '.join(path)} --help': paste the real one"
    )
