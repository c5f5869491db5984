"""Reading the keyring file, and replacing it atomically under a lock (`intake keys …` as root).

The service only ever reads. An edit takes an exclusive lock on the file's directory (two admins
editing at once would otherwise lose one change), writes a temporary file beside it, fsyncs it,
gives it the old file's owner, group and mode, renames it over the old one and fsyncs the
directory: a reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from intake.keyring.file import MAX_KEYRING_BYTES, KeyringFile, KeyringFileError

__all__ = ["KEYRING_FILE_MODE", "edit_keyring_file", "read_keyring_bytes", "read_keyring_file"]

# Readable by the service (group intake, or other), writable by its owner (root) only.
KEYRING_FILE_MODE = 0o644

_T = TypeVar("_T")


def read_keyring_bytes(path: Path) -> bytes:
    """The keyring file's bytes, as they are now. Raises KeyringFileError when unreadable."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEYRING_BYTES + 1)
    except FileNotFoundError as exc:
        raise KeyringFileError(
            f"the keyring file {path} does not exist",
            hint="add a key with `sudo intake keys add …`; after an upgrade, write the old "
            "database keyring out once with `sudo intake keys export-file`",
        ) from exc
    except OSError as exc:
        raise KeyringFileError(
            f"cannot read the keyring file {path}: {exc.strerror or type(exc).__name__}",
            hint="the service user must be able to read it (mode 0644, owner root)",
        ) from exc
    if len(data) > MAX_KEYRING_BYTES:
        raise KeyringFileError(f"the keyring file {path} is larger than {MAX_KEYRING_BYTES} bytes")
    return data


def read_keyring_file(path: Path) -> KeyringFile:
    """The parsed keyring file. Raises KeyringFileError (missing, unreadable or invalid)."""
    try:
        return KeyringFile.parse(read_keyring_bytes(path))
    except KeyringFileError as exc:
        if exc.message.startswith(("the keyring file", "cannot read")):
            raise
        raise KeyringFileError(
            f"the keyring file {path} is invalid: {exc.message}",
            hint="restore it from the admin's copy; the site refuses submissions meanwhile",
        ) from exc


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _replace(path: Path, data: bytes) -> None:
    try:
        old = path.stat()
        uid, gid, mode = old.st_uid, old.st_gid, old.st_mode & 0o7777
    except FileNotFoundError:
        uid, gid, mode = -1, -1, KEYRING_FILE_MODE
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if (uid, gid) != (-1, -1) and (uid, gid) != (os.geteuid(), os.getegid()):
            os.chown(temp, uid, gid)  # root keeps root:intake; a test user owns its own file
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def edit_keyring_file(
    path: Path, change: Callable[[KeyringFile], tuple[KeyringFile, _T]], *, create: bool = True
) -> _T:
    """Apply `change` to the file under an exclusive lock and replace it atomically.

    `change` gets the current keyring (empty when the file does not exist yet and `create`)
    and returns the new one and a result, which this returns. Raises KeyringFileError, or what
    `change` raises; on any error the file is unchanged.
    """
    if not path.parent.is_dir():
        raise KeyringFileError(
            f"the keyring file's directory {path.parent} does not exist",
            hint=f"create it as root: install -d -m 0755 {path.parent}",
        )
    with _locked(path.parent):
        current = KeyringFile.empty() if create and not path.exists() else read_keyring_file(path)
        updated, result = change(current)
        _replace(path, updated.to_json())
        return result
