"""Bugs the fuzzers found, one small reproducer each. They fail until their owner fixes them.

Each test says which module owns the fix. None is marked xfail: a known bug stays red.
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


def test_finding_open_bytes_deadlocks_on_armor_damaged_after_the_header() -> None:
    """crypto (stream/_opening.py): an ArmorError raised while a worker reads the payload
    leaves the job that raised without its write turn; the next job waits for that turn
    forever and Lanes.close() waits for the job. open_bytes, open_into and open_to_file hang
    (and `triage decrypt` on such a file), where age reports "invalid armor". open_stream
    (no sink, no write turns) is not affected. A child process, so the hang cannot stall us."""
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


def test_finding_valid_file_refused_from_a_stream_with_short_reads() -> None:
    """crypto (age.py _payload): the 16-byte payload nonce is taken from one read() call, so
    a raw stream (an unbuffered pipe or socket) that returns fewer bytes makes a valid file
    fail with HeaderError("the payload nonce is missing or short"). The payload itself is
    read with a loop (_read_full), as the nonce should be."""
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


def test_finding_negative_tar_size_reads_the_whole_bundle(tmp_path: Path) -> None:
    """protocol (_tar.py / bundle_reader.py): tarfile decodes a GNU base-256 size field of
    0xFF bytes as a negative number; _small_member then calls read_exact(stream, -1), which
    reads everything left (a multi-gigabyte export bundle) into memory before refusing it.
    A negative (or any out-of-range) size must be refused from the header alone."""
    path = tmp_path / "b.bundle"
    write_bundle(path, "export", [ItemSource.from_bytes("a", b"x")], created=date(2025, 6, 1))
    hostile = set_tar_field(path.read_bytes(), 0, "size", b"\xff" * 12)
    assert tarfile.TarInfo.frombuf(hostile[:512], "utf-8", "strict").size < 0
    stream = _Recording(hostile + bytes(1 << 20))
    with pytest.raises(ProtocolError) as refused:
        BundleReader(stream, expect_kind="export")
    assert refused.value.category == "bundle"
    assert all(0 <= size <= 1 << 16 for size in stream.sizes), stream.sizes


def test_finding_lone_surrogate_in_trusted_comment_escapes_as_unicode_error() -> None:
    """crypto (minisign.py): verify() encodes the trusted comment with .encode("utf-8"), so a
    signature text whose comment holds a lone surrogate raises UnicodeEncodeError instead of
    SignatureError. JSON's "\\udXXX" escapes make such strings: triage's custody check
    (custody_check.py) verifies signatures read from JSON and catches only SignatureError."""
    key = SigningKey.generate()
    lines = sign(b"data", key, trusted_comment="ok").split("\n")
    lines[2] += json.loads('"\\ud800"')
    with pytest.raises(SignatureError):
        verify("\n".join(lines), b"data", key.verify_key())


def _testimony_doc() -> dict[str, object]:
    return seeds.submissions(seeds.Keys.fixed())[0].to_dict()


@pytest.mark.parametrize("escape", ['"\\ud800"', '"\\udcff tail"', '"ok \\udfff"'])
def test_finding_submission_accepts_lone_surrogates(escape: str) -> None:
    """protocol (schema.py / fields.py): JSON "\\udXXX" escapes decode to lone surrogates,
    and free-text answers, callsigns and original file names accept them. Such a submission
    cannot be stored (SQLite raises UnicodeEncodeError), printed or written as UTF-8 by
    triage. A document with text that is not valid Unicode must be a schema error."""
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
def test_finding_schema_accepts_non_ascii_digits(where: str, value: str) -> None:
    """protocol (schema.py _TIME_RE, fields.py _DATE_RE/_TIME_RE): `\\d` in a str pattern
    matches every Unicode digit (Arabic-Indic, Devanagari, fullwidth...), so "YYYY-MM-DD"
    fields accept "٢٠٢٤-١١". received_at is then re-written in ASCII (the document is not
    canonical); dates and times are kept with foreign digits. Use [0-9] (or re.ASCII)."""
    doc = _testimony_doc()
    if where == "received_at":
        doc[where] = value
    else:
        doc["answers"][where] = value  # type: ignore[index]
    with pytest.raises(ProtocolError):
        Submission.from_json(json.dumps(doc).encode())
