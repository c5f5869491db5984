"""triage's one error root, the exit codes the `triage` command returns, and the workflows'
error values (workspace, not found, refused, usage)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from crypto.errors import Diagnostics

__all__ = [
    "CRYPTO_EXIT_CODES",
    "Diagnosis",
    "ExitCode",
    "TriageError",
    "not_found",
    "refused",
    "usage",
    "workspace_error",
]


class ExitCode(IntEnum):
    """Process exit statuses of `triage`; scripts may test them, so a value never changes meaning.

    age exits 1 for every failure; we keep 1 as the catch-all and split out the cases a
    script can act on (wrong key, damaged file, bad key material).
    """

    OK = 0
    FAILURE = 1  # any failure not listed below
    USAGE = 2  # bad options or arguments (click's own value, kept for familiarity)
    NO_MATCH = 3  # nothing opened with the identities given
    DAMAGED = 4  # sealed data malformed, truncated or tampered: header, MAC, payload, armor
    KEY = 5  # a key, key file or passphrase is malformed or unusable
    SIGNATURE = 6  # a signature did not verify
    IO = 7  # a file could not be read or written
    INTERRUPTED = 130  # Ctrl-C, the value shells report for SIGINT


# crypto.errors.CryptoError.category -> exit code; a category missing here exits FAILURE.
CRYPTO_EXIT_CODES: dict[str, ExitCode] = {
    "header": ExitCode.DAMAGED,
    "mac": ExitCode.DAMAGED,
    "payload": ExitCode.DAMAGED,
    "armor": ExitCode.DAMAGED,
    "no_match": ExitCode.NO_MATCH,
    "key": ExitCode.KEY,
    "signature": ExitCode.SIGNATURE,
}


@dataclass(frozen=True)
class Diagnosis:
    """What the CLI tells the user about a failure: one error line, hint lines, an exit code.

    The funnel (triage/cli/_funnel.py) builds it from any layer's `diagnostics()` (or from
    click's and the OS's errors), adding the exit code the category maps to.
    """

    message: str
    hints: tuple[str, ...]
    exit_code: ExitCode


class TriageError(Exception):
    """Root of every failure triage reports itself (as opposed to crypto or protocol errors).

    `message` says what failed and `hints` what to do, both lower-case without a final
    period (they are printed after `triage: error:` and `triage: hint:`). `category` is a
    stable short name tests and callers can match on.
    """

    def __init__(
        self,
        message: str,
        *,
        hints: Iterable[str] = (),
        category: str = "triage",
        exit_code: ExitCode = ExitCode.FAILURE,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hints = tuple(hints)
        self.category = category
        self.exit_code = exit_code

    def diagnostics(self) -> Diagnostics:
        """The category, the message and the hints; the exit code is `exit_code`."""
        return Diagnostics(self.category, self.message, self.hints)


# The workflows' errors (import, browse, custody, export), made the same way everywhere.


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
