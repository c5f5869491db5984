"""WORKSPACE/lock: one import or case export at a time, and stale staging cleaned only under it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from triage.errors import refused
from triage.workspace.layout import Workspace

__all__ = ["LOCK_NAME", "STAGING_PREFIX", "import_lock", "remove_stale_staging"]

LOCK_NAME = "lock"
STAGING_PREFIX = "import-"  # tmp/import-XXXX: one import's staged sealed items
# tmp/case-XXXX: one case export's staged bundle, which holds OPENED testimony and originals, so
# a killed export must not leave it behind either.
STAGING_PREFIXES = (STAGING_PREFIX, "case-")


@contextlib.contextmanager
def import_lock(workspace: Workspace) -> Iterator[None]:
    """Hold WORKSPACE/lock exclusively (flock) for the block; refuse at once if it is held.

    The kernel drops a flock when its holder dies, so a killed import never leaves the
    workspace locked; the empty file itself stays (0600) and is reused.
    """
    fd = os.open(workspace.root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refused(
                "another 'triage import' or 'triage case export' is running in this workspace",
                "wait for it to finish, then run this command again",
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_stale_staging(tmp: Path) -> list[Path]:
    """Remove the staging directories killed imports and case exports left in `tmp` (call under
    import_lock: then no other run's staging can be among them). Returns what was removed."""
    removed = []
    for entry in tmp.iterdir():
        if entry.name.startswith(STAGING_PREFIXES) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
