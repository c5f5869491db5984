"""The strict POSIX ustar subset bundles use: regular files only, short names, nothing else."""

from __future__ import annotations

import re
import tarfile
from datetime import UTC, date, datetime, time
from typing import Protocol

from protocol.errors import ProtocolError

__all__ = [
    "BLOCK",
    "MAX_MEMBER_SIZE",
    "RECORD",
    "Readable",
    "end_of_archive",
    "member_header",
    "padding",
    "read_exact",
    "read_header",
    "skip_padding",
]

BLOCK = tarfile.BLOCKSIZE
# tar(1) writes whole records of 20 blocks; we pad the same way so every tool reads our bundles.
RECORD = tarfile.RECORDSIZE
_USTAR_MAGIC = tarfile.POSIX_MAGIC  # b"ustar\x0000"
_MAGIC_AT = slice(257, 265)
# USTAR's 11 octal digits: the largest size a plain ustar header can state.
MAX_MEMBER_SIZE = 8**11 - 1
_SIZE_AT = slice(124, 136)
# Octal digits, then NUL or space padding. tarfile also takes GNU base-256 (which can be
# negative), signs and spaces around the digits; a size we trust for a read must be none of those.
_SIZE_RE = re.compile(rb"([0-7]{1,12})[ \x00]*")
_TYPE_NAMES = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.DIRTYPE: "a directory",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
    tarfile.XHDTYPE: "a pax extended header",
    tarfile.XGLTYPE: "a pax global header",
    tarfile.GNUTYPE_LONGNAME: "a GNU long name",
    tarfile.GNUTYPE_LONGLINK: "a GNU long link",
    tarfile.GNUTYPE_SPARSE: "a sparse file",
    tarfile.CONTTYPE: "a contiguous file",
}


class Readable(Protocol):
    """What the reader needs of its input: a file, or the joined parts of a split bundle."""

    def read(self, size: int = -1, /) -> bytes: ...


def member_header(name: str, size: int, day: date) -> bytes:
    """A ustar header for a regular file: mode 0600, owner 0, mtime the bundle's day (UTC).

    The day, not the second: file times are metadata about when someone worked.
    """
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
    info.uname = info.gname = ""
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")


def padding(size: int) -> bytes:
    """Zero bytes that bring a member's data of `size` bytes to a block boundary."""
    return bytes(-size % BLOCK)


def end_of_archive(offset: int) -> bytes:
    """Two zero blocks, then zeros up to a whole record, for an archive now `offset` bytes long."""
    end = offset + 2 * BLOCK
    return bytes(2 * BLOCK + (-end % RECORD))


def read_exact(stream: Readable, size: int, what: str) -> bytes:
    if size < 0:  # read(-1) would read everything left: never ask a stream for that
        raise ProtocolError("bundle", f"negative size for {what}")
    data = stream.read(size)
    if len(data) != size:
        raise ProtocolError("bundle", f"bundle is truncated in {what}")
    return data


def read_header(stream: Readable) -> tarfile.TarInfo | None:
    """The next member's header, or None at the end-of-archive marker.

    Raises ProtocolError("bundle") for anything but a well-formed ustar regular file.
    """
    block = read_exact(stream, BLOCK, "a member header")
    if block == bytes(BLOCK):
        return None
    if block[_MAGIC_AT] != _USTAR_MAGIC:
        raise ProtocolError("bundle", "a member header is not POSIX ustar")
    _check_size_field(block[_SIZE_AT])
    try:
        info = tarfile.TarInfo.frombuf(block, "utf-8", "strict")
    except (tarfile.HeaderError, UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("bundle", f"malformed tar header: {exc}") from None
    if info.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        kind = _TYPE_NAMES.get(info.type, f"of type {info.type!r}")
        raise ProtocolError("bundle", f"member {info.name!r} is {kind}, not a regular file")
    return info


def _check_size_field(field: bytes) -> None:
    # Checked on the raw bytes, before anything is read: a size that is negative or absurd
    # would otherwise become read(-1) (everything left) or a huge allocation.
    match = _SIZE_RE.fullmatch(field)
    if match is None:
        raise ProtocolError("bundle", f"member size {field!r} is not a ustar octal number")
    if int(match.group(1), 8) > MAX_MEMBER_SIZE:
        raise ProtocolError("bundle", "member size is larger than ustar allows")


def skip_padding(stream: Readable, size: int) -> None:
    """Read the padding after `size` bytes of data; it must be zeros."""
    if read_exact(stream, -size % BLOCK, "padding") != padding(size):
        raise ProtocolError("bundle", "non-zero bytes in tar padding")
