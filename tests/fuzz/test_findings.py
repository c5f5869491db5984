"""Bugs the fuzzers found, one small reproducer each, kept as regression tests.

Each docstring names the module that was at fault and what went wrong there.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from datetime import date
from pathlib import Path

import pytest

from crypto.age import open_stream, seal_bytes
from crypto.errors import SignatureError
from crypto.minisign import SigningKey, sign, verify
from crypto.x25519 import X25519Identity
from protocol.bundle import BundleReader, ItemSource, write_bundle
from protocol.errors import ProtocolError
from protocol.schema import Submission
from tests.fuzz import seeds
from tests.fuzz.fixups import set_tar_field

ROOT = Path(__file__).resolve().parents[2]

_DAMAGED_ARMOR = """
import io, sys
from crypto.age import open_bytes, seal_bytes
from crypto.errors import CryptoError
from crypto.x25519 import X25519Identity
identity = X25519Identity.generate()
lines = seal_bytes(b"hello", [identity.recipient()], armor=True).split(b"\\n")
lines[-3] = lines[-3][:-2] + b"!!"  # bad base64 in the last armor line: inside the payload
try:
    open_bytes(b"\\n".join(lines), [identity])
except CryptoError as exc:
    print(exc.category)
"""


def test_finding_armor_damaged_after_the_header_fails_instead_of_hanging() -> None:
    """crypto (_opening.py): an ArmorError raised while a worker read the payload left that
    job without its write turn; the next job waited for the turn forever and Lanes.close()
    for the job. open_bytes, open_into and open_to_file hung (so did `triage decrypt` on such
    a file), where age reports "invalid armor". Run in a child, so a hang cannot stall us."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _DAMAGED_ARMOR],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("open_bytes hangs on an armored file damaged after its header")
    assert done.stdout.strip() == "armor", done.stderr


class _Raw(io.RawIOBase):
    """An unbuffered pipe: each read returns at most 7 bytes."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, view: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(min(len(view), 7))
        view[: len(data)] = data
        return len(data)


def test_finding_a_stream_with_short_reads_opens_a_valid_file() -> None:
    """crypto (age.py _payload): the 16-byte payload nonce came from one read() call, so a
    raw stream (an unbuffered pipe or socket) returning fewer bytes made a valid file fail
    with HeaderError("the payload nonce is missing or short")."""
    identity = X25519Identity.generate()
    sealed = seal_bytes(b"hello", [identity.recipient()])
    assert b"".join(open_stream(_Raw(sealed), [identity])) == b"hello"  # type: ignore[arg-type]


class _Recording:
    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.sizes: list[int] = []

    def read(self, size: int = -1, /) -> bytes:
        self.sizes.append(size)
        return self._inner.read(size)


def test_finding_negative_tar_size_is_refused_without_reading_on(tmp_path: Path) -> None:
    """protocol (_tar.py): tarfile decodes a GNU base-256 size field of 0xFF bytes as a
    negative number; the reader then called read_exact(stream, -1), reading everything left
    (a multi-gigabyte export bundle) into memory before refusing it."""
    path = tmp_path / "b.bundle"
    write_bundle(path, "export", [ItemSource.from_bytes("a", b"x")], created=date(2025, 6, 1))
    hostile = set_tar_field(path.read_bytes(), 0, "size", b"\xff" * 12)
    assert tarfile.TarInfo.frombuf(hostile[:512], "utf-8", "strict").size < 0
    stream = _Recording(hostile + bytes(1 << 20))
    with pytest.raises(ProtocolError) as refused:
        BundleReader(stream, expect_kind="export")
    assert refused.value.category == "bundle"
    assert all(0 <= size <= 1 << 16 for size in stream.sizes), stream.sizes


def test_finding_lone_surrogate_in_trusted_comment_is_a_signature_error() -> None:
    """crypto (minisign.py): verify() encoded the trusted comment as UTF-8, so a comment with
    a lone surrogate raised UnicodeEncodeError, not SignatureError. JSON's "\\udXXX" escapes
    make such strings, and triage's custody check verifies signatures read from JSON,
    catching only SignatureError."""
    key = SigningKey.generate()
    lines = sign(b"data", key, trusted_comment="ok").split("\n")
    lines[2] += json.loads('"\\ud800"')
    with pytest.raises(SignatureError):
        verify("\n".join(lines), b"data", key.verify_key())


def _testimony_doc() -> dict[str, object]:
    return seeds.submissions(seeds.Keys.fixed())[0].to_dict()


@pytest.mark.parametrize("escape", ['"\\ud800"', '"\\udcff tail"', '"ok \\udfff"'])
def test_finding_submission_refuses_lone_surrogates(escape: str) -> None:
    """protocol (entries.py / fields.py): JSON "\\udXXX" escapes decode to lone surrogates,
    which free-text answers, callsigns and file names accepted. Such a submission cannot be
    stored (SQLite raises UnicodeEncodeError), printed or written as UTF-8 by triage."""
    doc = _testimony_doc()
    doc["answers"]["B1"] = json.loads(escape)  # type: ignore[index]
    with pytest.raises(ProtocolError) as refused:
        Submission.from_json(json.dumps(doc).encode())
    assert refused.value.category == "schema"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("received_at", "\u0662\u0660\u0662\u0665-06-01T12:34:56Z"),
        ("B4_date", "\u0662\u0660\u0662\u0664-\u0661\u0661"),
        ("B5_from", "1\u0663:05"),
    ],
)
def test_finding_schema_refuses_non_ascii_digits(where: str, value: str) -> None:
    """protocol (schema.py, fields.py): `\\d` in a str pattern matches every Unicode digit,
    so "YYYY-MM-DD" fields accepted "٢٠٢٤-١١"; received_at was then re-written in ASCII (the
    document was not canonical) and dates and times kept their foreign digits."""
    doc = _testimony_doc()
    if where == "received_at":
        doc[where] = value
    else:
        doc["answers"][where] = value  # type: ignore[index]
    with pytest.raises(ProtocolError):
        Submission.from_json(json.dumps(doc).encode())
