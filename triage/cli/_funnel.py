"""The one error funnel: failures become `triage: error:` and `triage: hint:` lines, exit codes.

Domain errors (triage's own, crypto's, protocol's) and OS errors are explained; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

import click

from crypto.errors import CryptoError
from protocol.errors import ProtocolError, UnsupportedVersionError
from triage.errors import CRYPTO_EXIT_CODES, Diagnosis, ExitCode, TriageError
from triage.text.safe import neutralise, neutralise_line

__all__ = ["diagnose", "report", "tidy"]

# What to do about each crypto failure category; the message itself comes from crypto.
_CRYPTO_HINTS: dict[str, tuple[str, ...]] = {
    "header": ("is this an age file? check that it was copied completely",),
    "mac": ("the header was changed after sealing or is damaged; get a fresh copy of the file",),
    "payload": ("the file is truncated or was changed after sealing; get a fresh copy",),
    "armor": ("the armored text is damaged; copy it again, from the BEGIN line to the END line",),
    "no_match": ("is this file sealed to another key? check the fingerprint with the sender",),
    "key": ("age recipients start with age1, identity files hold AGE-SECRET-KEY-1 lines",),
    "signature": ("the data or its signature was changed, or it was signed by another key",),
}

# ProtocolError.category -> exit code and what to do; the message comes from protocol.
_PROTOCOL_EXIT_CODES: dict[str, ExitCode] = {
    "integrity": ExitCode.DAMAGED,
    "bundle": ExitCode.DAMAGED,
    "schema": ExitCode.DAMAGED,
    "signature": ExitCode.SIGNATURE,
}
_PROTOCOL_HINTS: dict[str, str] = {
    "integrity": "the bundle was changed or damaged after it was written; copy it again",
    "bundle": "is this a complete bundle made by intake or triage? copy it again",
    "signature": "the bundle is not signed by the key you expect",
    "schema": "the bundle does not follow docs/bundles.md: it was damaged, crafted, or made by "
    "another tool; ask the admin for a fresh export",
    "unsupported_version": "this bundle was made by a newer version; update triage",
}
# A version below what this triage reads was written by an older intake (or triage).
_OLDER_HINT = (
    "this bundle was made by an older version; ask the admin to update intake and export again"
)

_OS_HINTS: dict[type[OSError], str] = {
    FileNotFoundError: "check the path",
    PermissionError: "check the file's permissions",
    IsADirectoryError: "give the path of a file, not a directory",
}


def tidy(text: str) -> str:
    """House style for CLI messages: lower-case start (unless an acronym), no final period."""
    text = " ".join(text.split()).rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _triage(exc: BaseException) -> Diagnosis | None:
    if not isinstance(exc, TriageError):
        return None
    diagnostics = exc.diagnostics()
    return Diagnosis(diagnostics.message, diagnostics.hints, exc.exit_code)


def _crypto(exc: BaseException) -> Diagnosis | None:
    if not isinstance(exc, CryptoError):
        return None
    category = exc.category
    message = tidy(str(exc)) or f"{category} error"
    exit_code = CRYPTO_EXIT_CODES.get(category, ExitCode.FAILURE)
    return Diagnosis(message, _CRYPTO_HINTS.get(category, ()), exit_code)


def _protocol(exc: BaseException) -> Diagnosis | None:
    if not isinstance(exc, ProtocolError):
        return None
    category = str(exc.category)
    hint = _PROTOCOL_HINTS.get(category, "check the bundle")
    if isinstance(exc, UnsupportedVersionError) and _older(exc):
        hint = _OLDER_HINT
    exit_code = _PROTOCOL_EXIT_CODES.get(category, ExitCode.FAILURE)
    return Diagnosis(tidy(str(exc.diagnostics())), (hint,), exit_code)


def _older(exc: UnsupportedVersionError) -> bool:
    """Whether the refused version is below every version this side reads."""
    version = exc.version
    return (
        isinstance(version, int) and not isinstance(version, bool) and version < min(exc.readable)
    )


def _os(exc: BaseException) -> Diagnosis | None:
    if not isinstance(exc, OSError):
        return None
    what = tidy(exc.strerror or str(exc))
    message = f"{exc.filename}: {what}" if exc.filename is not None else what
    hint = next((h for t, h in _OS_HINTS.items() if isinstance(exc, t)), None)
    return Diagnosis(message, (hint,) if hint else (), ExitCode.IO)


def _click(exc: BaseException) -> Diagnosis | None:
    if isinstance(exc, click.UsageError):
        path = exc.ctx.command_path if exc.ctx is not None else "triage"
        # click appends suggestions ("Did you mean '--verbose'?"): they are hints in our style.
        message, _, suggestion = exc.format_message().partition(". Did you mean")
        hints = [f"did you mean{suggestion}"] if suggestion else []
        hints.append(f"run '{path} --help' for usage")
        return Diagnosis(tidy(message), tuple(hints), ExitCode.USAGE)
    if isinstance(exc, click.ClickException):
        code = ExitCode(exc.exit_code) if exc.exit_code in set(ExitCode) else ExitCode.FAILURE
        return Diagnosis(tidy(exc.format_message()), (), code)
    if isinstance(exc, click.Abort):
        return Diagnosis("aborted", (), ExitCode.FAILURE)
    if isinstance(exc, KeyboardInterrupt):
        return Diagnosis("interrupted", (), ExitCode.INTERRUPTED)
    return None


# Tried in order; a later area adds its error root with one function here.
_TRANSLATORS: tuple[Callable[[BaseException], Diagnosis | None], ...] = (
    _triage,
    _crypto,
    _protocol,
    _click,
    _os,
)


def diagnose(exc: BaseException) -> Diagnosis | None:
    """Explain `exc` for the user, or None when it is not a failure we know (a bug)."""
    for translate in _TRANSLATORS:
        diagnosis = translate(exc)
        if diagnosis is not None:
            return diagnosis
    return None


def print_traceback(exc: BaseException) -> None:
    """Print the traceback of `exc` on stderr, every line neutralised.

    Python's own printer writes str(exc) raw, and an exception's message can quote a hostile
    bundle (a file name, a manifest line): escape sequences there would drive the terminal.
    """
    # Split on newlines only: a "\r" in the message must be removed, not start a line.
    for line in "".join(traceback.format_exception(exc)).rstrip("\n").split("\n"):
        click.echo(neutralise(line), err=True)


def report(
    diagnosis: Diagnosis, *, exc: BaseException | None = None, verbose: bool = False
) -> None:
    """Print the diagnosis on stderr (and with `verbose`, the traceback of `exc` before it)."""
    if verbose and exc is not None:
        print_traceback(exc)
    # Messages name files and quote text from bundles (a case bundle's file names, a
    # manifest line): neutralised here, at the one edge, so no error can carry an escape.
    click.echo(f"triage: error: {neutralise_line(diagnosis.message)}", err=True)
    for hint in diagnosis.hints:
        click.echo(f"triage: hint: {neutralise_line(hint)}", err=True)
