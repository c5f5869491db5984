"""Errors of the workspace workflows (import, browse, custody, export), as TriageError values."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from triage.errors import ExitCode, TriageError

__all__ = [
    "domain_errors",
    "not_found",
    "refused",
    "usage",
    "workspace_error",
]

P = ParamSpec("P")
R = TypeVar("R")

# protocol.errors.ProtocolError.category -> exit code; kept as data so that this module stays
# importable without protocol (and crypto) on start-up.
_PROTOCOL_EXIT_CODES = {
    "integrity": ExitCode.DAMAGED,
    "bundle": ExitCode.DAMAGED,
    "signature": ExitCode.SIGNATURE,
}
_PROTOCOL_HINTS = {
    "integrity": "the bundle was changed or damaged after it was written; copy it again",
    "bundle": "is this a complete bundle made by intake or triage? copy it again",
    "signature": "the bundle is not signed by the key you expect",
    "schema": "the document does not follow the protocol; is the tool version the same?",
    "unsupported_version": "this bundle was made by a newer version; update triage",
}


def workspace_error(message: str, *hints: str) -> TriageError:
    """A problem with the workspace itself (missing, loose permissions, damaged)."""
    return TriageError(message, hints=hints, category="workspace", exit_code=ExitCode.FAILURE)


def not_found(
    what: str, ident: str, hint: str = "run 'triage list' to see what exists"
) -> TriageError:
    return TriageError(f"no {what} {ident!r} in this workspace", hints=[hint], category="not_found")


def refused(message: str, *hints: str, exit_code: ExitCode = ExitCode.FAILURE) -> TriageError:
    """An action the rules of the workflow do not allow (consent, status, overwrite)."""
    return TriageError(message, hints=hints, category="refused", exit_code=exit_code)


def usage(message: str, *hints: str) -> TriageError:
    return TriageError(message, hints=hints, category="usage", exit_code=ExitCode.USAGE)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        # Looked up, not imported: if protocol was never loaded, this is no ProtocolError, and
        # importing it would load crypto and PyNaCl into commands that need neither.
        errors = sys.modules.get("protocol.errors")
        if errors is None or not isinstance(exc, errors.ProtocolError):
            raise
        raise TriageError(
            f"{exc.category}: {exc.message}",
            hints=[_PROTOCOL_HINTS.get(exc.category, "check the bundle")],
            category=f"protocol_{exc.category}",
            exit_code=_PROTOCOL_EXIT_CODES.get(exc.category, ExitCode.FAILURE),
        ) from exc


def domain_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command body so protocol failures reach the CLI funnel as TriageError."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _translated():
            return function(*args, **kwargs)

    return wrapper
