"""ItemReader.copy_to and the kernel copy under it: the copy is what gets verified."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest

from protocol import _copy
from protocol.bundle import MIN_PART_SIZE, ItemSource, open_bundle, write_bundle
from protocol.bundle_reader import ItemReader
from protocol.errors import ProtocolError
from protocol.manifest import ItemEntry

DAY = date(2025, 6, 1)


def _bundle(tmp_path: Path, items: dict[str, bytes], part: int | None = None) -> Path:
    out = tmp_path / "b"
    sources = [ItemSource.from_bytes(name, data) for name, data in items.items()]
    write_bundle(out, "export", sources, created=DAY, max_part_size=part)
    return out


def _copy_each(bundle: Path, folder: Path) -> dict[str, bytes]:
    """Copy every item, then read it back through the reader (which verifies the copy)."""
    got: dict[str, bytes] = {}
    with open_bundle(bundle, expect_kind="export") as reader:
        for number, item in enumerate(reader.items()):
            target = folder / f"copy{number}"
            item.copy_to(target)
            verified_before = item.verified
            assert item.read_all(1 << 20) == target.read_bytes()
            assert (verified_before, item.verified) == (False, True)
            assert target.stat().st_mode & 0o777 == 0o600
            got[item.entry.name] = target.read_bytes()
    return got


def test_copy_across_split_parts_is_verified(tmp_path: Path) -> None:
    blobs = {f"blobs/{i:032x}": os.urandom(25_000 + i) for i in range(3)}  # each spans parts
    bundle = _bundle(tmp_path, blobs, part=MIN_PART_SIZE)
    assert (tmp_path / "b.part003").exists()
    copies = tmp_path / "copies"
    copies.mkdir()
    assert {k: v for k, v in _copy_each(bundle, copies).items() if k in blobs} == blobs


def test_changed_byte_is_caught_when_the_copy_is_read(tmp_path: Path) -> None:
    data = os.urandom(40_000)
    bundle = _bundle(tmp_path, {"blobs/" + "a" * 32: data})
    raw = bytearray(bundle.read_bytes())
    raw[raw.index(data[:64]) + 20_000] ^= 1
    bundle.write_bytes(bytes(raw))
    with pytest.raises(ProtocolError, match="does not match its SHA-256") as caught:
        _copy_each(bundle, tmp_path)
    assert caught.value.category == "integrity"


def test_truncated_item_leaves_no_copy(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, {"blobs/" + "a" * 32: os.urandom(50_000)})
    bundle.write_bytes(bundle.read_bytes()[:30_000])
    with pytest.raises(ProtocolError, match="truncated"):
        _copy_each(bundle, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_copy_never_overwrites(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, {"blobs/" + "a" * 32: b"data"})
    (tmp_path / "taken").write_bytes(b"mine")
    with open_bundle(bundle, expect_kind="export") as reader:
        item = next(reader.items())
        with pytest.raises(FileExistsError):
            item.copy_to(tmp_path / "taken")
    assert (tmp_path / "taken").read_bytes() == b"mine"


def test_copy_from_a_plain_stream(tmp_path: Path) -> None:
    # A reader built on a stream that cannot copy in the kernel copies through Python.
    data = os.urandom(200_000)
    entry = ItemEntry("blobs/" + "b" * 32, len(data), hashlib.sha256(data).hexdigest())
    item = ItemReader(io.BytesIO(data + bytes(512)), entry)
    item.copy_to(tmp_path / "c")
    item.drain()
    assert item.verified
    assert (tmp_path / "c").read_bytes() == data


def _refuse(code: int) -> object:
    def call(*_args: object) -> int:
        raise OSError(code, os.strerror(code))

    return call


@pytest.mark.parametrize(
    ("copy_file_range", "sendfile"),
    [
        (errno.EXDEV, None),  # another filesystem: sendfile
        (errno.ENOSYS, errno.EINVAL),  # neither: through Python
        (None, None),  # the kernel copy
    ],
)
def test_copy_range_falls_back(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    copy_file_range: int | None,
    sendfile: int | None,
) -> None:
    if copy_file_range is not None:
        monkeypatch.setattr(os, "copy_file_range", _refuse(copy_file_range))
    if sendfile is not None:
        monkeypatch.setattr(os, "sendfile", _refuse(sendfile))
    data = os.urandom(3_000_000)
    (tmp_path / "src").write_bytes(b"head" + data)
    with (tmp_path / "src").open("rb") as src, (tmp_path / "dst").open("wb") as dst:
        assert src.read(4) == b"head"
        done = 0
        while copied := _copy.copy_range(src, dst.fileno(), len(data) - done):
            done += copied
        assert src.read() == b""
    assert (tmp_path / "dst").read_bytes() == data


def test_copy_range_reports_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "copy_file_range", _refuse(errno.ENOSPC))
    (tmp_path / "src").write_bytes(b"x" * 1000)
    with (tmp_path / "src").open("rb") as src, (tmp_path / "dst").open("wb") as dst:
        with pytest.raises(OSError, match="No space") as caught:
            _copy.copy_range(src, dst.fileno(), 1000)
        assert caught.value.errno == errno.ENOSPC


def test_what_is_verified_is_the_copy(tmp_path: Path) -> None:
    # The bundle is intact; a byte of the copy changes before it is read back: refused.
    bundle = _bundle(tmp_path, {"blobs/" + "a" * 32: os.urandom(40_000)})
    with open_bundle(bundle, expect_kind="export") as reader:
        item = next(reader.items())
        target = tmp_path / "copy"
        item.copy_to(target)
        with target.open("r+b") as copy:
            copy.seek(30_000)
            byte = copy.read(1)
            copy.seek(30_000)
            copy.write(bytes([byte[0] ^ 1]))
        with pytest.raises(ProtocolError, match="does not match its SHA-256"):
            item.drain()


def test_copy_between_filesystems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bundle on one filesystem (a USB stick), the workspace on another: no monkeypatching,
    # the kernel refuses copy_file_range across them (EXDEV) and sendfile takes over.
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's folder")
    blobs = {"blobs/" + "c" * 32: os.urandom(300_000)}
    calls: list[int] = []
    real_sendfile = os.sendfile

    def sendfile(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        calls.append(count)
        return real_sendfile(out_fd, in_fd, offset, count)

    monkeypatch.setattr(os, "sendfile", sendfile)
    folder = Path(tempfile.mkdtemp(dir=shm))
    try:
        bundle = _bundle(folder, blobs)
        assert _copy_each(bundle, tmp_path) == blobs
        assert calls, "sendfile was not used across filesystems"
    finally:
        shutil.rmtree(folder)


def test_copy_must_come_first_and_once(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, {"blobs/" + "a" * 32: os.urandom(30_000)})
    with open_bundle(bundle, expect_kind="export") as reader:
        item = next(reader.items())
        item.read(1000)  # a copy now would hold only the rest of the item
        with pytest.raises(RuntimeError, match="before any read"):
            item.copy_to(tmp_path / "late")
    with open_bundle(bundle, expect_kind="export") as reader:
        item = next(reader.items())
        item.copy_to(tmp_path / "first")
        with pytest.raises(RuntimeError, match="before any read"):
            item.copy_to(tmp_path / "second")
        item.drain()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "first"]


def test_a_copy_that_grew_is_refused(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, {"blobs/" + "a" * 32: os.urandom(30_000)})
    with open_bundle(bundle, expect_kind="export") as reader:
        item = next(reader.items())
        item.copy_to(tmp_path / "copy")
        with (tmp_path / "copy").open("ab") as copy:
            copy.write(b"more")
        with pytest.raises(ProtocolError, match="does not match"):
            item.drain()


def test_a_kernel_that_copies_nothing_is_not_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Some filesystems answer 0 instead of an error: the copy goes on through Python.
    monkeypatch.setattr(os, "copy_file_range", lambda *_args: 0)
    monkeypatch.setattr(os, "sendfile", lambda *_args: 0)
    blobs = {"blobs/" + "d" * 32: os.urandom(70_000)}
    bundle = _bundle(tmp_path, blobs, part=MIN_PART_SIZE)
    copies = tmp_path / "copies"
    copies.mkdir()
    assert {k: v for k, v in _copy_each(bundle, copies).items() if k in blobs} == blobs
