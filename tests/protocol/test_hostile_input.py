"""Regressions from fuzzing: hostile tar sizes, strings that are not Unicode, foreign digits."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import date
from pathlib import Path

import pytest

from crypto.x25519 import X25519Identity
from protocol._parts import find_parts
from protocol.bundle import ItemSource, parse_size, write_bundle
from protocol.bundle_reader import BundleReader
from protocol.errors import ProtocolError
from protocol.fields import GROUP_FIELDS
from protocol.ids import new_blob_name, new_submission_id
from protocol.manifest import Manifest
from protocol.schema import Answers, FileEntry, Submission

DAY = date(2025, 6, 1)
_SIZE_AT = slice(124, 136)
_CHECKSUM_AT = slice(148, 156)


class _Recording(io.BytesIO):
    """A stream that remembers every size it was asked to read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def _with_size_field(bundle: bytes, field: bytes) -> bytes:
    """`bundle` with the first header's size field replaced and its checksum made right."""
    header = bytearray(bundle[:512])
    header[_SIZE_AT] = field
    header[_CHECKSUM_AT] = b" " * 8
    header[_CHECKSUM_AT] = b"%06o\x00 " % sum(header)
    return bytes(header) + bundle[512:]


@pytest.fixture
def bundle(tmp_path: Path) -> bytes:
    path = tmp_path / "b.bundle"
    write_bundle(path, "export", [ItemSource.from_bytes("a", b"x")], created=DAY)
    return path.read_bytes()


@pytest.mark.parametrize(
    "field",
    [
        b"\xff" * 12,  # GNU base-256: tarfile reads it as -1
        b"\x80" + bytes(10) + b"\x01",  # GNU base-256, positive
        b"-0000000001\x00",
        b" 0000000117\x00",
        b"0000000011 9",
        b"00000000089\x00",
        bytes(12),  # no digits at all
        "\u0661".encode() + bytes(10),  # an Arabic-Indic digit
        b"777777777777",  # 12 digits: more than ustar's 11 allow
    ],
)
def test_invalid_tar_size_is_refused_before_any_read(bundle: bytes, field: bytes) -> None:
    stream = _Recording(_with_size_field(bundle, field) + bytes(1 << 20))
    with pytest.raises(ProtocolError) as refused:
        BundleReader(stream, expect_kind="export")
    assert refused.value.category == "bundle"
    assert stream.sizes == [512], stream.sizes


def test_space_terminated_octal_size_still_reads(bundle: bytes) -> None:
    size = tarfile.TarInfo.frombuf(bundle[:512], "utf-8", "strict").size
    stream = io.BytesIO(_with_size_field(bundle, b"%011o " % size))
    reader = BundleReader(stream, expect_kind="export")
    assert [item.read_all(10) for item in reader.items()] == [b"x"]


RECIPIENT = str(X25519Identity.generate().recipient())


def _doc(**answers: object) -> dict[str, object]:
    base: dict[str, object] = {"A3": True, "A4": ["investigators"], "B1": "account"}
    base.update(answers)
    return {
        "schema_version": 1,
        "kind": "testimony",
        "submission_id": new_submission_id(),
        "form_version": "2025.1",
        "ui_language": "uk",
        "received_at": "2025-06-01T12:34:56Z",
        "parent_id": None,
        "witness_reply_recipient": RECIPIENT,
        "answers": base,
        "files": [],
        "consent_change": None,
    }


def _refused(doc: dict[str, object]) -> ProtocolError:
    """Refused both as decoded JSON and as the JSON text (which escapes surrogates)."""
    with pytest.raises(ProtocolError) as as_object:
        Submission.parse(doc)
    with pytest.raises(ProtocolError) as as_json:
        Submission.from_json(json.dumps(doc).encode())
    assert as_object.value.category == as_json.value.category == "schema"
    return as_json.value


@pytest.mark.parametrize("text", ["\ud800", "tail \udcff", "\udfffhead"])
def test_lone_surrogates_in_answers_are_refused(text: str) -> None:
    _refused(_doc(B1=text))
    _refused(_doc(B8_callsigns=["Arta", text]))


def test_surrogate_pair_in_a_str_is_refused() -> None:
    # As JSON text the pair is U+1F4A3, but a str holding the two halves would not survive a
    # round trip (it comes back as one character), so the decoded form is refused.
    doc = _doc(B1="pair \ud83d\udca3")
    with pytest.raises(ProtocolError, match="B1"):
        Submission.parse(doc)
    parsed = Submission.from_json(json.dumps(doc).encode())
    assert parsed.answers.text("B1") == "pair \U0001f4a3"


def test_surrogates_in_other_strings_are_refused() -> None:
    doc = _doc()
    doc["form_version"] = "2025\udc80"
    _refused(doc)
    with pytest.raises(ProtocolError, match="Unicode"):
        FileEntry(
            blob_name=new_blob_name(),
            sealed_sha256=hashlib.sha256(b"s").hexdigest(),
            plaintext_sha256=hashlib.sha256(b"p").hexdigest(),
            size=1,
            declared_type="video/mp4",
            original_name="VID\udcff.mp4",
            group=1,
            group_answers=Answers.parse({}, GROUP_FIELDS),
        )


def test_real_non_bmp_text_is_kept() -> None:
    doc = _doc(B1="граната \U0001f4a3 here")
    assert (
        Submission.from_json(json.dumps(doc).encode()).answers.text("B1")
        == doc["answers"][
            "B1"  # type: ignore[index]
        ]
    )


def test_surrogates_in_a_manifest_are_refused() -> None:
    data = b'{"created":"2025-06-01","items":[],"kind":"export","meta":{"n":"\\ud800"},"version":1}'
    with pytest.raises(ProtocolError) as refused:
        Manifest.from_bytes(data)
    assert refused.value.category == "bundle"


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("received_at", "\u0662\u0660\u0662\u0665-06-01T12:34:56Z"),
        ("received_at", "2025-06-01T1\uff12:34:56Z"),  # a fullwidth digit
        ("B4_date", "\u0662\u0660\u0662\u0664-\u0661\u0661"),
        ("B4_date", "2024-1\u0967"),  # a Devanagari digit
        ("B5_from", "1\u0663:05"),
        ("B5_to", "12:0\uff15"),
    ],
)
def test_non_ascii_digits_are_refused(where: str, value: str) -> None:
    doc = _doc()
    if where == "received_at":
        doc[where] = value
    else:
        doc["answers"][where] = value  # type: ignore[index]
    _refused(doc)


def test_non_ascii_digits_elsewhere_are_refused(tmp_path: Path) -> None:
    day = b'{"created":"\\u0662025-06-01","items":[],"kind":"export","meta":{},"version":1}'
    with pytest.raises(ProtocolError, match="YYYY-MM-DD"):
        Manifest.from_bytes(day)
    for text in ("\u0661\u0660M", "10\u212a", "\uff14G"):  # Arabic-Indic, Kelvin sign, fullwidth
        with pytest.raises(ValueError, match="not a size"):
            parse_size(text)
    assert parse_size("10k") == 10 * 1024
    foreign = tmp_path / "b.bundle.part\u0660\u0660\u0661"
    foreign.write_bytes(b"")
    # Not taken for part 1 of "b.bundle" (int() would read it as 1): it is a file of its own.
    assert find_parts(foreign) == [foreign]
