"""A bundle as one file or as BUNDLE.part001, part002 …: split on write, joined on read."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path
from types import TracebackType
from typing import IO

from protocol._copy import copy_range
from protocol.errors import ProtocolError

__all__ = [
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "JoinedParts",
    "PartWriter",
    "find_parts",
    "part_path",
    "remove_stale_temps",
]

MAX_PARTS = 999  # three digits: part001 … part999
# Below a tar record a part would hold less than one member header; nobody needs that.
MIN_PART_SIZE = 10240
_PART_RE = re.compile(r"(.+)\.part([0-9]{3})")  # not \d: int() reads any Unicode digit
_TAG_BYTES = 4  # the temp names' random tag: 8 lower-case hex digits
_TEMP_TAIL = rf"\.[0-9a-f]{{{2 * _TAG_BYTES}}}\.[1-9][0-9]*\.tmp"


def _temp_path(base: Path, tag: str, index: int) -> Path:
    return base.with_name(f".{base.name}.{tag}.{index}.tmp")


def remove_stale_temps(base: Path) -> list[Path]:
    """Remove the temp parts a killed write to `base` left behind; returns what was removed.

    Only regular files named exactly as PartWriter names the temps of `base` (.BASE.TAG.N.tmp)
    go: another target's temps, or anything else a user keeps there, are never touched.
    """
    pattern = re.compile(re.escape(f".{base.name}") + _TEMP_TAIL)
    removed = []
    with contextlib.suppress(FileNotFoundError), os.scandir(base.parent) as entries:
        for entry in entries:
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def part_path(base: Path, index: int) -> Path:
    return base.with_name(f"{base.name}.part{index:03d}")


def find_parts(path: Path) -> list[Path]:
    """The files that make up the bundle at `path` (BUNDLE, or BUNDLE.part001 given either).

    Raises ProtocolError("bundle") when there is none, or both forms exist.
    """
    match = _PART_RE.fullmatch(path.name)
    base = path.with_name(match.group(1)) if match else path
    first = part_path(base, 1)
    if base.exists() and first.exists():
        raise ProtocolError("bundle", f"both {base.name} and {first.name} exist; which is it?")
    if base.exists():
        return [base]
    parts = []
    for index in range(1, MAX_PARTS + 1):
        candidate = part_path(base, index)
        if not candidate.exists():
            break
        parts.append(candidate)
    if not parts:
        raise ProtocolError("bundle", f"no bundle at {base}")
    return parts


class JoinedParts:
    """A read-only stream over the parts in order, opening each only when reached."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = list(paths)
        self._index = 0
        self._current = self._paths[0].open("rb")

    def read(self, size: int = -1) -> bytes:
        chunks: list[bytes] = []
        wanted = size
        while wanted != 0:
            data = self._current.read(wanted)
            if data:
                chunks.append(data)
                wanted = wanted - len(data) if wanted > 0 else wanted
                continue
            if not self._next_part():
                break
        return b"".join(chunks)

    def readinto(self, view: memoryview) -> int:
        """Fill `view` from the parts in order; short only at the end of the last part."""
        got = 0
        while got < len(view):
            count = self._current.readinto(view[got:])
            if count:
                got += count
            elif not self._next_part():
                break
        return got

    def copy_to(self, fd: int, count: int) -> int:
        """Copy the next `count` bytes to `fd` in the kernel where it can (protocol._copy);
        short only at the end of the last part."""
        done = 0
        while done < count:
            copied = copy_range(self._current, fd, count - done)
            if copied:
                done += copied
            elif not self._next_part():
                break
        return done

    def _next_part(self) -> bool:
        if self._index + 1 >= len(self._paths):
            return False
        self._current.close()
        self._index += 1
        self._current = self._paths[self._index].open("rb")
        return True

    def close(self) -> None:
        self._current.close()

    def __enter__(self) -> JoinedParts:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class PartWriter:
    """Writes a stream into hidden temporary parts beside `base`, each at most `max_part_size`.

    finish() renames them to BUNDLE (one part) or BUNDLE.part001 … (several); abort() removes
    them. Nothing ever appears under a final name until the whole bundle is written. Temps are
    created 0600 (they hold the bundle's bytes), and a new writer first removes the temps a
    killed write to the same `base` left: one writer per `base` at a time.
    """

    def __init__(self, base: Path, max_part_size: int | None) -> None:
        if max_part_size is not None and max_part_size < MIN_PART_SIZE:
            raise ValueError(f"parts must be at least {MIN_PART_SIZE} bytes")
        self._base = base
        self._limit = max_part_size
        self._tag = secrets.token_hex(_TAG_BYTES)
        self._temps: list[Path] = []
        self._room = 0
        self._file: IO[bytes] | None = None
        for existing in [base, part_path(base, 1)]:
            if existing.exists():
                raise FileExistsError(f"{existing} already exists; not overwriting it")
        remove_stale_temps(base)

    def _next_part(self) -> None:
        self._close_current()
        if len(self._temps) >= MAX_PARTS:
            raise ProtocolError("bundle", f"more than {MAX_PARTS} parts; raise the part size")
        temp = _temp_path(self._base, self._tag, len(self._temps) + 1)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        self._file = os.fdopen(os.open(temp, flags, 0o600), "wb")
        self._temps.append(temp)
        self._room = self._limit if self._limit is not None else -1

    def _close_current(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            if self._file is None or self._room == 0:
                self._next_part()
            assert self._file is not None  # noqa: S101 - _next_part opened it
            take = len(view) if self._room < 0 else min(self._room, len(view))
            self._file.write(view[:take])
            view = view[take:]
            if self._room > 0:
                self._room -= take
        return len(data)

    def finish(self) -> list[Path]:
        """Close, then move the parts to their final names. Returns the final paths."""
        if self._file is None:
            self._next_part()
        self._close_current()
        single = len(self._temps) == 1
        finals = (
            [self._base]
            if single
            else [part_path(self._base, i + 1) for i in range(len(self._temps))]
        )
        for final in finals:
            if final.exists():
                raise FileExistsError(f"{final} appeared while writing; not overwriting it")
        if not all(temp.is_file() for temp in self._temps):
            # Another write to the same name started meanwhile and took them for leftovers.
            raise FileExistsError(f"another write to {self._base} is under way; not finishing")
        for temp, final in zip(self._temps, finals, strict=True):
            temp.replace(final)
        self._temps = []
        _sync_dir(self._base.parent)
        return finals

    def abort(self) -> None:
        """Remove every temporary part (after a failure)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        for temp in self._temps:
            temp.unlink(missing_ok=True)
        self._temps = []


def _sync_dir(directory: Path) -> None:
    # Make the renames durable before the stick is pulled; some filesystems refuse, which is fine.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
