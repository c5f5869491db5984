"""`intake doctor`'s keyring checks: who may write the file, what it holds, and the cache.

The file decides who an investigator is, so the check that matters is that the service user
cannot change it: the file and its directory must belong to the configured owner (root in
production) and be writable by nobody else. The expected owner is configuration
(INTAKE_KEYRING_OWNER_UID) rather than a hard-coded 0, so the suite exercises both the passing
and the failing case as an ordinary user.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, select

from intake.config import Config
from intake.db import SessionFactory
from intake.findings import Finding, Severity, ok
from intake.keyring.cache import cache_differences
from intake.keyring.file import KeyringFileError
from intake.keyring.store import KEYRING_FILE_MODE, read_keyring_file
from intake.models import InvestigatorKey

__all__ = ["check_keyring", "check_keyring_file"]

_ADD = "sudo intake keys add RECIPIENT --name NAME --signing-key MINISIGN_PUB_FILE"
_EXPORT = "sudo intake keys export-file (once, after the upgrade; deploy/README.md)"


def _writable_by_others(check: str, path: Path, owner: int) -> Finding | None:
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != owner:
        return Finding(
            check,
            Severity.PROBLEM,
            f"{path} belongs to uid {info.st_uid}, not to uid {owner}: its owner can change "
            "who testimony is sealed to",
            f"chown root:intake {path} (INTAKE_KEYRING_OWNER_UID says which uid is expected)",
        )
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return Finding(
            check,
            Severity.PROBLEM,
            f"{path} is writable by its group or by others (mode {mode:04o})",
            f"chmod go-w {path}",
        )
    if os.geteuid() != owner and os.access(path, os.W_OK):
        return Finding(
            check,
            Severity.PROBLEM,
            f"{path} is writable by this user (uid {os.geteuid()}), perhaps through an ACL",
            f"setfacl -b {path}",
        )
    return None


def check_keyring_file(config: Config) -> Iterator[Finding]:
    """The keyring file and its directory: present, owned by the expected uid, not writable
    by the service."""
    path = config.keyring_file
    if not path.exists():
        return  # check_keyring says what to do (add a key, or export the old rows)
    for target in (path.parent, path):
        found = _writable_by_others("keyring file", target, config.keyring_owner_uid)
        if found is not None:
            yield found
            return
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & stat.S_IROTH and not mode & stat.S_IRGRP:
        yield Finding(
            "keyring file",
            Severity.WARNING,
            f"{path} is readable by its owner only (mode {mode:04o}): the service cannot read it",
            f"chmod {KEYRING_FILE_MODE:o} {path}",
        )
        return
    yield ok("keyring file", f"{path} is owned by uid {config.keyring_owner_uid}, mode {mode:04o}")


def _missing_file(config: Config, sessions: SessionFactory) -> Finding:
    with sessions() as session:
        rows = session.scalar(select(func.count()).select_from(InvestigatorKey)) or 0
    if rows:
        return Finding(
            "keyring",
            Severity.PROBLEM,
            f"the keyring file {config.keyring_file} does not exist, and the database holds "
            f"{rows} key row(s) from before the upgrade: the site refuses every submission",
            _EXPORT,
        )
    return Finding(
        "keyring",
        Severity.PROBLEM,
        f"the keyring file {config.keyring_file} does not exist: the site refuses every submission",
        _ADD,
    )


def check_keyring(config: Config, sessions: SessionFactory) -> Iterator[Finding]:
    """The file's content (an active key) and how the database's cache differs from it."""
    if not config.keyring_file.exists():
        yield _missing_file(config, sessions)
        return
    try:
        ring = read_keyring_file(config.keyring_file)
    except KeyringFileError as exc:
        yield Finding("keyring", Severity.PROBLEM, exc.message, exc.hint)
        return
    if not ring.active:
        yield Finding(
            "keyring",
            Severity.PROBLEM,
            "no active investigator key: the site refuses every submission",
            _ADD,
        )
    else:
        yield ok("keyring", f"{len(ring.active)} active investigator key(s)")
    with sessions() as session:
        diff = cache_differences(session, ring)
    if diff.not_in_file:
        yield Finding(
            "keyring cache",
            Severity.PROBLEM,
            "the database holds key rows the keyring file does not: "
            f"{', '.join(diff.not_in_file)}; they authorise nothing, but someone wrote them",
            "if the upgrade export was never run: " + _EXPORT + "; otherwise find out who "
            "inserted them (the database was written by someone other than intake)",
        )
    elif diff.disagreeing:
        yield Finding(
            "keyring cache",
            Severity.WARNING,
            f"cached rows differ from the file for {', '.join(diff.disagreeing)}; the file "
            "decides, and the cache is rewritten at the next submission",
            "nothing to do unless it persists; then check who writes the database",
        )
    else:
        yield ok("keyring cache", "the database's copy agrees with the file")
