"""Fixtures for the in-process CLI tests: no test may wait on a real terminal."""

from __future__ import annotations

import getpass

import pytest


@pytest.fixture(autouse=True)
def _no_terminal_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests must never block on the real /dev/tty of whoever runs pytest; a test
    that means a prompt patches getpass itself."""

    def refuse(prompt: str = "") -> str:
        # pytest.fail, not an AssertionError: CliRunner turns any Exception into exit code 1,
        # which a test of an error path would take for the failure it expects.
        pytest.fail(f"unexpected terminal prompt {prompt!r}")

    monkeypatch.setattr(getpass, "getpass", refuse)
