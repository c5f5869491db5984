"""Errors of the workspace workflows (import, browse, custody, export), as TriageError values."""

from __future__ import annotations

from triage.errors import ExitCode, TriageError

__all__ = [
    "not_found",
    "refused",
    "usage",
    "workspace_error",
]


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
