"""Bundles: round trips (split or not), signatures, and hostile archives refused."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.minisign import SigningKey
from protocol.bundle import (
    FAT32_MAX_FILE_SIZE,
    MIN_PART_SIZE,
    ItemSource,
    open_bundle,
    parse_size,
    verify_bundle,
    write_bundle,
)
from protocol.errors import ProtocolError
from protocol.manifest import Manifest

DAY = date(2025, 6, 1)


def _read_all(path: Path, kind: str = "export", **kwargs: object) -> dict[str, bytes]:
    with open_bundle(path, expect_kind=kind, **kwargs) as reader:  # type: ignore[arg-type]
        return {item.entry.name: item.read_all(1 << 24) for item in reader.items()}


def test_export_round_trip_and_real_tar_reads_it(tmp_path: Path) -> None:
    video = tmp_path / "video.bin"
    video.write_bytes(os.urandom(200_000))
    items = [
        ItemSource.from_bytes("submissions/S-0123456789ABCDEF.json.age", b"sealed json"),
        ItemSource.from_file("blobs/" + "ab" * 16, video),
        ItemSource.from_bytes("empty", b""),
    ]
    seen: list[int] = []
    out = tmp_path / "export.bundle"
    written = write_bundle(
        out, "export", items, meta={"server": "demo"}, created=DAY, progress=seen.append
    )
    assert written == [out]
    assert sum(seen) == 200_000 + len(b"sealed json")
    assert out.stat().st_size % tarfile.RECORDSIZE == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.bundle", "video.bin"]

    got = _read_all(out)
    assert got["blobs/" + "ab" * 16] == video.read_bytes()
    assert got["empty"] == b""
    reader = verify_bundle(out, expect_kind="export")
    assert reader.manifest.meta == {"server": "demo"}
    assert reader.manifest.created == DAY
    assert reader.signer is None

    listing = subprocess.run(["tar", "-tf", out], capture_output=True, text=True, check=True)
    assert listing.stdout.split() == ["bundle.json", *(i.name for i in items)]
    unpack = tmp_path / "unpack"
    unpack.mkdir()
    subprocess.run(["tar", "-xf", out, "-C", unpack], check=True)
    assert (unpack / "blobs" / ("ab" * 16)).read_bytes() == video.read_bytes()


def test_split_into_parts_and_joined_on_read(tmp_path: Path) -> None:
    blobs = {f"blobs/{i:032x}": os.urandom(9_000 + i) for i in range(5)}
    items = [ItemSource.from_bytes(name, data) for name, data in blobs.items()]
    out = tmp_path / "b"
    written = write_bundle(out, "export", items, created=DAY, max_part_size=MIN_PART_SIZE)
    assert [p.name for p in written] == [f"b.part{i:03d}" for i in range(1, len(written) + 1)]
    assert len(written) > 3
    assert all(p.stat().st_size <= MIN_PART_SIZE for p in written)
    assert not out.exists()
    assert {k: v for k, v in _read_all(out).items() if k in blobs} == blobs
    assert _read_all(written[0]) == _read_all(out)  # naming part001 works too
    joined = b"".join(p.read_bytes() for p in written)
    listing = subprocess.run(["tar", "-tf", "-"], input=joined, capture_output=True, check=True)
    assert len(listing.stdout.split()) == 6

    written[-1].unlink()
    with pytest.raises(ProtocolError, match="truncated"):
        verify_bundle(out, expect_kind="export")


def test_one_part_when_it_fits(tmp_path: Path) -> None:
    out = tmp_path / "small"
    written = write_bundle(out, "export", [ItemSource.from_bytes("a", b"x")], max_part_size=1 << 20)
    assert written == [out]


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}(/[A-Za-z0-9][a-z0-9_-]{0,10})?", fullmatch=True),
        st.binary(max_size=3000),
        max_size=8,
    ).filter(lambda d: len({k.casefold() for k in d}) == len(d) and not _nested(d)),
    st.sampled_from([None, MIN_PART_SIZE, 3 * MIN_PART_SIZE]),
)
def test_any_small_items_round_trip(items: dict[str, bytes], part: int | None) -> None:
    items.pop("bundle.json", None)
    items.pop("bundle.json.minisig", None)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bundle"
        sources = [ItemSource.from_bytes(name, data) for name, data in items.items()]
        write_bundle(out, "export", sources, max_part_size=part)
        assert _read_all(out) == items


def _nested(names: dict[str, bytes]) -> bool:
    return any(name.split("/")[0] in names for name in names if "/" in name)


@pytest.fixture
def signer() -> SigningKey:
    return SigningKey.generate()


def _ack(tmp_path: Path, signer: SigningKey) -> Path:
    out = tmp_path / "ack.bundle"
    ack = json.dumps({"S-0123456789ABCDEF": "ab" * 32}).encode()
    write_bundle(
        out, "ack", [ItemSource.from_bytes("ack.json", ack)], signing_key=signer, created=DAY
    )
    return out


def test_signed_bundle_verifies_and_minisign_agrees(tmp_path: Path, signer: SigningKey) -> None:
    out = _ack(tmp_path, signer)
    other = SigningKey.generate().verify_key()
    reader = verify_bundle(out, expect_kind="ack", verify_keys=[other, signer.verify_key()])
    assert reader.signer == signer.verify_key()
    assert reader.trusted_comment is not None
    assert reader.trusted_comment.startswith("intake bundle ack v1 2025-06-01 sha256:")

    unpack = tmp_path / "unpack"
    unpack.mkdir()
    subprocess.run(["tar", "-xf", out, "-C", unpack], check=True)
    (unpack / "key.pub").write_text(signer.verify_key().to_file_text())
    result = subprocess.run(
        ["minisign", "-V", "-p", "key.pub", "-m", "bundle.json"],
        cwd=unpack,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_signed_bundle_refused_without_the_right_key(tmp_path: Path, signer: SigningKey) -> None:
    out = _ack(tmp_path, signer)
    for keys in ([], [SigningKey.generate().verify_key()]):
        with pytest.raises(ProtocolError) as info:
            verify_bundle(out, expect_kind="ack", verify_keys=keys)
        assert info.value.category == "signature"


def test_changed_byte_in_signed_manifest_is_refused(tmp_path: Path, signer: SigningKey) -> None:
    out = _ack(tmp_path, signer)
    data = bytearray(out.read_bytes())
    at = data.index(b'"created":"2025-06-01"') + len(b'"created":"2025-06-0')
    data[at : at + 1] = b"2"  # still valid JSON and a real day; the tar header is untouched
    out.write_bytes(bytes(data))
    with pytest.raises(ProtocolError) as info:
        verify_bundle(out, expect_kind="ack", verify_keys=[signer.verify_key()])
    assert info.value.category == "signature"


def test_signature_cannot_be_stripped_by_relabelling(tmp_path: Path, signer: SigningKey) -> None:
    out = tmp_path / "export"
    write_bundle(out, "export", [ItemSource.from_bytes("ack.json", b"{}")])
    with pytest.raises(ProtocolError, match="expected a ack bundle"):
        verify_bundle(out, expect_kind="ack", verify_keys=[signer.verify_key()])


def test_writer_misuse_and_changed_source(tmp_path: Path, signer: SigningKey) -> None:
    item = ItemSource.from_bytes("a", b"x")
    with pytest.raises(ValueError, match="signed"):
        write_bundle(tmp_path / "x", "ack", [item])
    with pytest.raises(ValueError, match="not signed"):
        write_bundle(tmp_path / "x", "export", [item], signing_key=signer)
    with pytest.raises(ValueError, match="at least"):
        write_bundle(tmp_path / "x", "export", [item], max_part_size=100)
    with pytest.raises(ValueError, match="not JSON"):
        write_bundle(tmp_path / "x", "export", [item], meta={"when": DAY})
    source = tmp_path / "changing"
    source.write_bytes(b"original")
    described = ItemSource.from_file("f", source)
    source.write_bytes(b"Original")
    with pytest.raises(ProtocolError) as info:
        write_bundle(tmp_path / "out", "export", [described])
    assert info.value.category == "integrity"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changing"]
    (tmp_path / "out").write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_bundle(tmp_path / "out", "export", [item])
    assert (tmp_path / "out").read_bytes() == b"keep"


def test_read_all_has_a_limit(tmp_path: Path) -> None:
    out = tmp_path / "b"
    write_bundle(out, "export", [ItemSource.from_bytes("a", b"x" * 100)])
    with open_bundle(out, expect_kind="export") as reader, pytest.raises(ProtocolError):
        next(reader.items()).read_all(99)


def test_missing_or_ambiguous_bundle(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="no bundle"):
        verify_bundle(tmp_path / "none", expect_kind="export")
    write_bundle(tmp_path / "b", "export", [])
    (tmp_path / "b.part001").write_bytes(b"")
    with pytest.raises(ProtocolError, match="which is it"):
        verify_bundle(tmp_path / "b", expect_kind="export")


def test_parse_size() -> None:
    assert parse_size("4G") == 4 * 1024**3
    assert parse_size("700 MiB") == 700 * 1024**2
    assert parse_size("10240") == 10240
    assert parse_size("1k") == 1024
    assert FAT32_MAX_FILE_SIZE == 4 * 1024**3 - 1
    with pytest.raises(ValueError, match="not a size"):
        parse_size("four gigs")


# Hostile archives, built with tarfile directly -------------------------------------------------


def _manifest(*items: tuple[str, bytes], kind: str = "export", version: int = 1) -> bytes:
    entries = [
        {"name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in items
    ]
    doc = {"kind": kind, "version": version, "created": "2025-06-01", "items": entries, "meta": {}}
    return json.dumps(doc).encode()


Member = tuple[tarfile.TarInfo, bytes]


def _member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **attrs: object) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, data


def _tar(*members: Member, fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buffer.getvalue()


GOOD = ("blobs/x", b"payload")
HOSTILE: dict[str, Callable[[], bytes]] = {
    "empty archive": _tar,
    "missing bundle.json": lambda: _tar(_member(*GOOD)),
    "bundle.json second": lambda: _tar(_member(*GOOD), _member("bundle.json", _manifest(GOOD))),
    "dot-dot member": lambda: _tar(
        _member("bundle.json", _manifest(GOOD)), _member("../x", GOOD[1])
    ),
    "dot-dot in manifest": lambda: _tar(
        _member("bundle.json", _manifest(("../x", b"p"))), _member("../x", b"p")
    ),
    "absolute in manifest": lambda: _tar(
        _member("bundle.json", _manifest(("/etc/x", b"p"))), _member("/etc/x", b"p")
    ),
    "backslash in manifest": lambda: _tar(
        _member("bundle.json", _manifest(("a\\b", b"p"))), _member("a\\b", b"p")
    ),
    "NUL in manifest": lambda: _tar(_member("bundle.json", _manifest(("a\x00b", b"p")))),
    "hidden name": lambda: _tar(
        _member("bundle.json", _manifest((".ssh", b"p"))), _member(".ssh", b"p")
    ),
    "symlink": lambda: _tar(
        _member("bundle.json", _manifest(("blobs/x", b""))),
        _member("blobs/x", kind=tarfile.SYMTYPE, linkname="/etc/passwd"),
    ),
    "hardlink": lambda: _tar(
        _member("bundle.json", _manifest(("blobs/x", b""))),
        _member("blobs/x", kind=tarfile.LNKTYPE, linkname="bundle.json"),
    ),
    "directory": lambda: _tar(
        _member("bundle.json", _manifest(("blobs", b""))), _member("blobs", kind=tarfile.DIRTYPE)
    ),
    "device": lambda: _tar(
        _member("bundle.json", _manifest(("dev", b""))), _member("dev", kind=tarfile.CHRTYPE)
    ),
    "fifo": lambda: _tar(
        _member("bundle.json", _manifest(("p", b""))), _member("p", kind=tarfile.FIFOTYPE)
    ),
    "not in manifest": lambda: _tar(
        _member("bundle.json", _manifest(GOOD)), _member(*GOOD), _member("extra", b"x")
    ),
    "duplicate member": lambda: _tar(
        _member("bundle.json", _manifest(GOOD)), _member(*GOOD), _member(*GOOD)
    ),
    "duplicate in manifest": lambda: _tar(
        _member("bundle.json", _manifest(GOOD, GOOD)), _member(*GOOD), _member(*GOOD)
    ),
    "case duplicate in manifest": lambda: _tar(
        _member("bundle.json", _manifest(("a", b""), ("A", b""))), _member("a"), _member("A")
    ),
    "order mismatch": lambda: _tar(
        _member("bundle.json", _manifest(GOOD, ("y", b"2"))), _member("y", b"2"), _member(*GOOD)
    ),
    "missing item": lambda: _tar(_member("bundle.json", _manifest(GOOD))),
    "size lies": lambda: _tar(
        _member("bundle.json", _manifest(("blobs/x", b"short"))), _member("blobs/x", b"longer!")
    ),
    "hash lies": lambda: _tar(
        _member("bundle.json", _manifest(("blobs/x", b"aaaa"))), _member("blobs/x", b"bbbb")
    ),
    "unknown kind": lambda: _tar(_member("bundle.json", _manifest(kind="gift"))),
    "unknown version": lambda: _tar(_member("bundle.json", _manifest(version=3))),
    "manifest not json": lambda: _tar(_member("bundle.json", b"{nope")),
    "pax headers": lambda: _tar(
        _member("bundle.json", _manifest(GOOD)),
        _member(*GOOD, pax_headers={"comment": "hi"}),
        fmt=tarfile.PAX_FORMAT,
    ),
    "gnu long name": lambda: _tar(
        _member("bundle.json", _manifest(GOOD)), _member("a" * 120, b""), fmt=tarfile.GNU_FORMAT
    ),
    "truncated": lambda: _tar(_member("bundle.json", _manifest(GOOD)), _member(*GOOD))[:1100],
    "garbage after end": lambda: (
        _tar(_member("bundle.json", _manifest(GOOD)), _member(*GOOD)) + b"\x01"
    ),
    "not a tar": lambda: os.urandom(20_000),
    "export relabelled for ack": lambda: _tar(
        _member("bundle.json", _manifest(GOOD, kind="export")), _member(*GOOD)
    ),
}


REASONS = {
    "NUL in manifest": "bundle: item name contains NUL",
    "absolute in manifest": "is an absolute path",
    "backslash in manifest": "contains a backslash",
    "bundle.json second": "expected bundle.json here, found 'blobs/x'",
    "case duplicate in manifest": "same name (ignoring case)",
    "device": "is a character device, not a regular file",
    "directory": "is a directory, not a regular file",
    "dot-dot in manifest": "climbs out with '..'",
    "dot-dot member": "member '../x' is not blobs/x",
    "duplicate in manifest": "same name (ignoring case)",
    "duplicate member": "member 'blobs/x' is not in the manifest",
    "empty archive": "expected bundle.json here, found the end of the archive",
    "export relabelled for ack": "expected a ack bundle, got export",
    "fifo": "is a FIFO, not a regular file",
    "garbage after end": "data after the end of the archive",
    "gnu long name": "not POSIX ustar",
    "hardlink": "is a hard link, not a regular file",
    "hash lies": "integrity: item blobs/x does not match its SHA-256",
    "hidden name": "'.ssh' is not a flat portable name",
    "manifest not json": "bundle.json is not valid JSON",
    "missing bundle.json": "expected bundle.json here",
    "missing item": "bundle ends before item blobs/x",
    "not a tar": "not POSIX ustar",
    "not in manifest": "member 'extra' is not in the manifest",
    "order mismatch": "member 'y' is not blobs/x",
    "pax headers": "is a pax extended header",
    "size lies": "integrity: member blobs/x has another size",
    "symlink": "is a symbolic link, not a regular file",
    "truncated": "truncated",
    "unknown kind": "unsupported_version: bundle kind 'gift'",
    "unknown version": "unsupported_version: export bundle version 3 is not one this side reads",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_archive_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "hostile"
    path.write_bytes(HOSTILE[name]())
    expect = "ack" if name == "export relabelled for ack" else "export"
    with pytest.raises(ProtocolError) as info:
        verify_bundle(path, expect_kind=expect)  # type: ignore[arg-type]
    assert REASONS[name] in str(info.value.diagnostics())


def test_hostile_ack_with_missing_signature_member(tmp_path: Path, signer: SigningKey) -> None:
    path = tmp_path / "ack"
    path.write_bytes(_tar(_member("bundle.json", _manifest(GOOD, kind="ack")), _member(*GOOD)))
    with pytest.raises(ProtocolError, match=r"expected bundle\.json\.minisig"):
        verify_bundle(path, expect_kind="ack", verify_keys=[signer.verify_key()])


def test_manifest_model_refuses_nested_names() -> None:
    with pytest.raises(ProtocolError, match="lies under"):
        Manifest.from_bytes(_manifest(("a", b""), ("a/b", b"")))


def _good(tmp_path: Path) -> Path:
    out = tmp_path / "good"
    write_bundle(out, "export", [ItemSource.from_bytes(*GOOD)], created=DAY)
    return out


def test_damaged_headers_padding_and_end_marker(tmp_path: Path) -> None:
    out = _good(tmp_path)
    data = out.read_bytes()
    at = data.index(b"blobs/x\x00")  # the item's header; bundle.json and its padding before it
    cases: dict[str, Callable[[bytes], bytes]] = {
        "malformed tar header": lambda d: d[:at] + b"blobs/y" + d[at + 7 :],
        "non-zero bytes in tar padding": lambda d: d[: at - 1] + b"\x01" + d[at:],
        "truncated at its end marker": lambda d: d[: at + 3 * 512],
    }
    for reason, damage in cases.items():
        damaged = tmp_path / "damaged"
        damaged.write_bytes(damage(data))
        with pytest.raises(ProtocolError, match=reason):
            verify_bundle(damaged, expect_kind="export")


def test_oversized_manifest_is_refused_before_reading(tmp_path: Path) -> None:
    info = tarfile.TarInfo("bundle.json")
    info.size = 64 * 1024 * 1024 + 1
    path = tmp_path / "huge"
    path.write_bytes(info.tobuf(tarfile.USTAR_FORMAT) + bytes(1024))
    with pytest.raises(ProtocolError, match="larger than"):
        verify_bundle(path, expect_kind="export")


def test_signature_member_must_be_text(tmp_path: Path, signer: SigningKey) -> None:
    path = tmp_path / "ack"
    manifest = _manifest(GOOD, kind="ack")
    path.write_bytes(
        _tar(_member("bundle.json", manifest), _member("bundle.json.minisig", b"\xff\xfe"))
    )
    with pytest.raises(ProtocolError, match="not text"):
        verify_bundle(path, expect_kind="ack", verify_keys=[signer.verify_key()])


def test_item_reader_reads_in_pieces_and_only_once(tmp_path: Path) -> None:
    out = _good(tmp_path)
    with open_bundle(out, expect_kind="export") as reader:
        items = reader.items()
        item = next(items)
        assert item.read(0) == b""
        assert item.read(3) == b"pay"
        verified_before = item.verified
        assert item.read(-1) == b"load"
        assert (verified_before, item.verified) == (False, True)
        assert item.read() == b""
        with pytest.raises(RuntimeError, match="only once"):
            next(reader.items())


@pytest.mark.parametrize(
    "doc",
    [
        {"kind": "export", "version": 1, "created": "2025-06-01", "items": [], "meta": {}, "x": 1},
        {"kind": "export", "version": True, "created": "2025-06-01", "items": [], "meta": {}},
        {"kind": "export", "version": 1, "created": "1 June", "items": [], "meta": {}},
        {"kind": "export", "version": 1, "created": "2025-02-30", "items": [], "meta": {}},
        {"kind": "export", "version": 1, "created": "2025-06-01", "items": {}, "meta": {}},
        {"kind": "export", "version": 1, "created": "2025-06-01", "items": [], "meta": []},
        {"kind": "export", "version": 1, "created": "2025-06-01", "items": [1], "meta": {}},
        {
            "kind": "export",
            "version": 1,
            "created": "2025-06-01",
            "meta": {},
            "items": [{"name": 1, "size": 0, "sha256": "0" * 64}],
        },
        {
            "kind": "export",
            "version": 1,
            "created": "2025-06-01",
            "meta": {},
            "items": [{"name": "a", "size": "0", "sha256": "0" * 64}],
        },
        {
            "kind": "export",
            "version": 1,
            "created": "2025-06-01",
            "meta": {},
            "items": [{"name": "a", "size": -1, "sha256": "0" * 64}],
        },
        {
            "kind": "export",
            "version": 1,
            "created": "2025-06-01",
            "meta": {},
            "items": [{"name": "a", "size": 0, "sha256": "A" * 64}],
        },
        {
            "kind": "export",
            "version": 1,
            "created": "2025-06-01",
            "meta": {},
            "items": [{"name": "bundle.json", "size": 0, "sha256": "0" * 64}],
        },
    ],
)
def test_malformed_manifest_documents(doc: dict[str, object]) -> None:
    with pytest.raises(ProtocolError) as info:
        Manifest.from_bytes(json.dumps(doc).encode())
    assert info.value.category in {"bundle", "unsupported_version"}
