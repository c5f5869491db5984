"""Passphrases for commands: read from `--passphrase-file`, or asked on the controlling terminal.

Never from stdin: stdin may carry the data being sealed or opened, and a passphrase typed
into a pipe would be read as data (or data as a passphrase).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click

from triage.errors import ExitCode, TriageError

__all__ = ["Passphrases", "passphrase_file_option"]

F = TypeVar("F", bound=Callable[..., object])

_NO_TERMINAL_HINT = "pass --passphrase-file FILE (its first line is the passphrase)"


def passphrase_file_option(function: F) -> F:
    """The shared `--passphrase-file FILE` option (parameter `passphrase_file`)."""
    return click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Read the passphrase from the first line of FILE instead of asking on the terminal.",
    )(function)


@dataclass(frozen=True)
class Passphrases:
    """Where a command gets passphrases: `file` when given, otherwise the terminal."""

    file: Path | None

    def get(self, prompt: str, *, confirm: bool = False) -> bytes:
        """The passphrase as UTF-8 bytes; asks twice on the terminal when `confirm`.

        Raises TriageError when there is no terminal to ask on, when the two entries differ,
        or when the passphrase is empty.
        """
        if self.file is not None:
            return _read_file(self.file)
        _require_terminal()
        try:
            first = getpass.getpass(f"{prompt} ")
            if confirm and getpass.getpass("Confirm passphrase: ") != first:
                raise TriageError(
                    "the passphrases did not match",
                    hints=["type the same passphrase twice"],
                    category="passphrase",
                    exit_code=ExitCode.KEY,
                )
        except EOFError:
            first = ""
        return _non_empty(first.encode(), "the terminal")


def _read_file(path: Path) -> bytes:
    # Only the first line counts, so `echo secret > f` and editors' final newlines both work.
    first_line = path.read_bytes().split(b"\n", 1)[0].removesuffix(b"\r")
    return _non_empty(first_line, str(path))


def _non_empty(passphrase: bytes, source: str) -> bytes:
    if not passphrase:
        raise TriageError(
            f"empty passphrase from {source}",
            hints=["an empty passphrase protects nothing; give a real one"],
            category="passphrase",
            exit_code=ExitCode.KEY,
        )
    return passphrase


def _require_terminal() -> None:
    # getpass falls back to stdin (with a warning) when /dev/tty cannot be opened; refuse
    # instead, for the reason in the module docstring.
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise TriageError(
            "no terminal to ask for the passphrase on",
            hints=[_NO_TERMINAL_HINT],
            category="passphrase",
            exit_code=ExitCode.USAGE,
        ) from None
    os.close(fd)
