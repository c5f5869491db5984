"""Structure-aware repairs applied after a blind mutation, so it reaches past the first check.

A flipped byte in an age header almost always fails the MAC, and one in a tar header almost
always fails the checksum: the code behind those checks would never see hostile input. These
repairs recompute the MAC (our identities unwrap the file key it is keyed with) and the tar
checksums, and write chosen values into tar header fields.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence

from crypto import kdf
from crypto.armor import ArmorWriter
from crypto.errors import HeaderError
from crypto.header import Header, Identity, with_mac

BLOCK = tarfile.BLOCKSIZE
USTAR_MAGIC = tarfile.POSIX_MAGIC
_MAGIC_AT = slice(257, 265)
_CHECKSUM_AT = slice(148, 156)
# ustar header fields a structured mutation may overwrite (offset, length).
TAR_FIELDS = {
    "name": (0, 100),
    "mode": (100, 8),
    "size": (124, 12),
    "mtime": (136, 12),
    "typeflag": (156, 1),
    "linkname": (157, 100),
    "magic": (257, 8),
    "prefix": (345, 155),
}
# Values worth trying in each field: octal edge cases, GNU base-256 numbers (positive and
# negative), non-octal text, every member type, names that climb, hide or collide.
_NUMBERS = (
    b"00000000000\x00",
    b"77777777777\x00",
    b"\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01",
    b"\x80\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
    b"\xff" * 12,
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe\x00",
    b"-0000000001\x00",
    b" 12 ",
    b"9999",
    b"",
)
_NAMES = (
    b"../evil",
    b"/etc/passwd",
    b"bundle.json",
    b"bundle.json.minisig",
    b"a/../b",
    b"\xc3\x28",
    b"",
)
TAR_VALUES: dict[str, tuple[bytes, ...]] = {
    "name": _NAMES,
    "mode": _NUMBERS,
    "size": _NUMBERS,
    "mtime": _NUMBERS,
    "typeflag": (b"\x00", b"0", b"1", b"2", b"3", b"5", b"7", b"g", b"x", b"L", b"K", b"S", b"D"),
    "linkname": _NAMES,
    "magic": (b"ustar  \x00", b"ustar\x0000", b"\x00" * 8, b"USTAR\x0000"),
    "prefix": _NAMES,
}


def remac(data: bytes, identities: Sequence[Identity]) -> bytes | None:
    """`data` with a valid header MAC, if one of `identities` unwraps its file key; else None.

    The file key is what the MAC is keyed with: a mutated header whose stanza still opens
    then gets past the MAC check and exercises the stanza and payload code behind it.
    """
    try:
        header, covered = Header.parse(io.BytesIO(data))
        file_key = next(
            (key for i in identities if (key := i.unwrap(header.stanzas)) is not None), None
        )
    except HeaderError:
        return None
    if file_key is None:
        return None
    return with_mac(covered, kdf.header_mac(file_key, covered)) + data[header.size :]


def armored(data: bytes) -> bytes:
    """`data` in ASCII armor, as our writer makes it."""
    out = io.BytesIO()
    writer = ArmorWriter(out)
    writer.write(data)
    writer.finish()
    return out.getvalue()


def header_blocks(data: bytes | bytearray) -> list[int]:
    """Offsets of the 512-byte blocks that carry the ustar magic (member headers, probably)."""
    return [
        at
        for at in range(0, len(data) - BLOCK + 1, BLOCK)
        if data[at + _MAGIC_AT.start : at + _MAGIC_AT.stop] == USTAR_MAGIC
    ]


def fix_tar_checksums(data: bytes) -> bytes:
    """Recompute the checksum of every block that looks like a ustar member header."""
    out = bytearray(data)
    for at in header_blocks(out):
        block = out[at : at + BLOCK]
        block[_CHECKSUM_AT] = b" " * 8
        out[at + _CHECKSUM_AT.start : at + _CHECKSUM_AT.stop] = b"%06o\x00 " % sum(block)
    return bytes(out)


def set_tar_field(data: bytes, member: int, name: str, value: bytes) -> bytes:
    """Write `value` (NUL-padded or cut to the field) into a member header, fixing checksums."""
    blocks = header_blocks(data)
    if not blocks:
        return data
    at = blocks[member % len(blocks)]
    offset, length = TAR_FIELDS[name]
    out = bytearray(data)
    out[at + offset : at + offset + length] = value[:length].ljust(length, b"\x00")
    return fix_tar_checksums(bytes(out))
