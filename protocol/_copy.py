"""Copying a range of one file into another in the kernel, with a plain fallback."""

from __future__ import annotations

import errno
import os
from typing import BinaryIO

__all__ = ["copy_range", "write_all"]

_STEP = 1 << 30  # Linux copies at most about 2 GiB per call anyway
_FALLBACK_STEP = 1 << 20
# Errors that mean "this pair of files cannot be copied that way", not "the copy failed":
# another filesystem (EXDEV), a filesystem or kernel without it (EINVAL, ENOSYS, EOPNOTSUPP).
_UNSUPPORTED = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}


def copy_range(src: BinaryIO, fd: int, count: int) -> int:
    """Copy up to `count` bytes from `src`'s position to `fd` (at its own position), advancing
    both; returns how many were copied (fewer only at the end of `src`).

    Why the kernel: copying 1 GiB through Python's read() and write() cost 1 to 3 s of system
    time here, copy_file_range or sendfile about 0.3 s (README, Benchmarks), and the bytes never
    pass through this process. Other errors (a full disk) are raised as OSError.
    """
    start = src.tell()
    src_fd = src.fileno()
    step = min(count, _STEP)
    for kernel_copy in (_copy_file_range, _sendfile):
        try:
            copied = kernel_copy(src_fd, fd, step, start)
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
            continue
        if not copied and count and start < os.fstat(src_fd).st_size:
            continue  # some filesystems answer 0 where they cannot copy: not the end of `src`
        src.seek(start + copied)  # the calls took an explicit offset: src's position is ours
        return copied
    data = src.read(min(count, _FALLBACK_STEP))
    write_all(fd, data)
    return len(data)


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd` (os.write may write less than it is given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_file_range(src_fd: int, fd: int, count: int, offset: int) -> int:
    copy = getattr(os, "copy_file_range", None)  # Linux only
    if copy is None:
        raise OSError(errno.ENOSYS, "copy_file_range is not available")
    return int(copy(src_fd, fd, count, offset))


def _sendfile(src_fd: int, fd: int, count: int, offset: int) -> int:
    # Linux takes any file as the target; elsewhere it must be a socket (EINVAL or ENOTSOCK).
    try:
        return os.sendfile(fd, src_fd, offset, count)
    except OSError as exc:
        if exc.errno == errno.ENOTSOCK:
            raise OSError(errno.EOPNOTSUPP, "sendfile needs a socket here") from exc
        raise
