"""The orchestration: the Sealer as a Werkzeug stream, opening to a file, detection, rules."""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
from pathlib import Path

import pytest

from crypto._chunks import BATCH_BYTES, CHUNK_SIZE
from crypto.age import Sealer, open_bytes, open_stream, open_to_file, seal_bytes
from crypto.errors import HeaderError, MacError, NoIdentityMatchError, PayloadError
from crypto.header import Stanza
from crypto.scrypt import ScryptIdentity, ScryptRecipient
from crypto.x25519 import X25519Identity, X25519Recipient
from tests.crypto.conftest import FAST_LOG_N


def test_sealer_takes_werkzeug_style_writes_and_seek_zero(
    identity: X25519Identity, recipient: X25519Recipient
) -> None:
    out = io.BytesIO()
    sealer = Sealer(out, [recipient])
    assert out.getvalue().startswith(b"age-encryption.org/v1\n")  # header written at once
    assert sealer.writable()
    assert not sealer.readable()
    assert not sealer.seekable()
    for _ in range(40):
        assert sealer.write(b"x" * 16384) == 16384
    assert sealer.tell() == sealer.plaintext_size == 655360
    # Werkzeug rewinds each file part after its last chunk; we stay put and keep appending.
    assert sealer.seek(0) == 655360
    assert sealer.seek(0, io.SEEK_CUR) == sealer.seek(0, io.SEEK_END) == 655360
    assert sealer.seek(655360) == 655360
    with pytest.raises(io.UnsupportedOperation):
        sealer.seek(10)
    with pytest.raises(io.UnsupportedOperation):
        sealer.seek(-1, io.SEEK_CUR)
    sealer.write(b"tail")
    sealer.flush()
    sealer.finish()
    assert sealer.closed
    assert not sealer.writable()
    sealer.close()  # after finish: nothing to abandon
    assert open_bytes(out.getvalue(), [identity]) == b"x" * 655360 + b"tail"
    assert len(sealer.file_key) == 16
    with pytest.raises(ValueError, match="finished"):
        sealer.finish()


def test_closing_an_unfinished_sealer_leaves_an_unreadable_file(
    identity: X25519Identity, recipient: X25519Recipient
) -> None:
    out = io.BytesIO()
    sealer = Sealer(out, [recipient])
    sealer.write(os.urandom(300_000))
    sealer.close()
    sealer.close()
    with pytest.raises(ValueError, match="not open|aborted"):
        sealer.finish()
    with pytest.raises(PayloadError):
        open_bytes(out.getvalue(), [identity])


def test_context_manager_abandons_on_error(
    identity: X25519Identity, recipient: X25519Recipient
) -> None:
    out = io.BytesIO()

    def upload() -> None:
        with Sealer(out, [recipient]) as sealer:
            sealer.write(b"partial")
            raise RuntimeError("upload cut")

    with pytest.raises(RuntimeError, match="upload cut"):
        upload()
    with pytest.raises(PayloadError):
        open_bytes(out.getvalue(), [identity])


class _FullDisk(io.BytesIO):
    """An output with room for `room` bytes; every write after that fails with ENOSPC."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        size = len(memoryview(data))  # type: ignore[arg-type]
        if size > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= size
        return size


# A full disk met by a worker in a later batch (write() raises), or by the final, inline batch
# (finish() raises), with and without armor.
@pytest.mark.parametrize("armor", [False, True])
@pytest.mark.parametrize(("chunks", "room"), [(100, 3 * BATCH_BYTES), (5, 1000)])
def test_a_failing_out_write_reaches_the_caller_and_aborts(
    recipient: X25519Recipient, armor: bool, chunks: int, room: int
) -> None:
    sealer = Sealer(_FullDisk(room), [recipient], armor=armor)
    caught: list[BaseException] = []

    def upload() -> None:
        try:
            for _ in range(chunks):
                sealer.write(bytes(CHUNK_SIZE))
            sealer.finish()
        except BaseException as exc:
            caught.append(exc)

    # A thread, so that a hang (a worker waiting for a turn forever) fails instead of stalling.
    thread = threading.Thread(target=upload, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "the sealer hangs after out.write failed"
    assert len(caught) == 1
    assert isinstance(caught[0], OSError)
    assert caught[0].errno == errno.ENOSPC
    with pytest.raises(
        ValueError, match="finished or aborted"
    ):  # data was lost: nothing may now look finished
        sealer.finish()
    with pytest.raises(ValueError, match="finished or aborted"):
        sealer.write(b"more")
    sealer.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("crypto-stream")]


def test_each_file_gets_fresh_keys_and_nonces(recipient: X25519Recipient) -> None:
    first, second = seal_bytes(b"same", [recipient]), seal_bytes(b"same", [recipient])
    assert first != second
    assert first[-52:-20] != second[-52:-20]


def test_open_to_file_renames_only_after_the_final_chunk(
    tmp_path: Path, identity: X25519Identity, recipient: X25519Recipient
) -> None:
    data = os.urandom(500_000)
    sealed = seal_bytes(data, [recipient])
    target = tmp_path / "out.bin"
    assert open_to_file(io.BytesIO(sealed), [identity], target) == len(data)
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # plaintext is private by default
    broken = tmp_path / "broken.bin"
    with pytest.raises(PayloadError):
        open_to_file(io.BytesIO(sealed[:-1]), [identity], broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temp file left
    with pytest.raises(NoIdentityMatchError):
        open_to_file(io.BytesIO(sealed), [X25519Identity.generate()], broken)
    assert not broken.exists()


def test_header_errors_come_before_any_output(identity: X25519Identity) -> None:
    with pytest.raises(HeaderError, match="empty"):
        open_stream(io.BytesIO(b""), [identity])
    with pytest.raises(HeaderError, match="nonce"):
        open_stream(io.BytesIO(seal_bytes(b"", [identity.recipient()])[:-20]), [identity])


def test_no_identities_means_no_match(recipient: X25519Recipient) -> None:
    with pytest.raises(NoIdentityMatchError):
        open_bytes(seal_bytes(b"x", [recipient]), [])


def test_scrypt_must_be_alone_even_for_other_identities(identity: X25519Identity) -> None:
    passphrase_only = seal_bytes(b"x", [ScryptRecipient(b"pw", FAST_LOG_N)])
    header_end = passphrase_only.index(b"\n---")
    extra = Stanza.from_parts("X25519", ["AAAA"], bytes(32)).encode()
    mixed = passphrase_only[: header_end + 1] + extra + passphrase_only[header_end + 1 :]
    with pytest.raises(HeaderError, match="only stanza"):
        open_bytes(mixed, [identity])
    with pytest.raises(HeaderError, match="only stanza"):
        ScryptIdentity(b"pw").unwrap(
            [Stanza.from_parts("scrypt", ["AAAA", "10"], bytes(32)), Stanza("x", (), b"")]
        )


def test_scrypt_limits(recipient: X25519Recipient) -> None:
    with pytest.raises(ValueError, match="empty passphrase"):
        ScryptRecipient(b"")
    with pytest.raises(ValueError, match="between"):
        ScryptRecipient(b"pw", 21)
    with pytest.raises(ValueError, match="between"):
        ScryptIdentity(b"pw", max_log_n=23)
    sealed = seal_bytes(b"x", [ScryptRecipient(b"pw", 12)])
    with pytest.raises(HeaderError, match="above our limit"):
        open_bytes(sealed, [ScryptIdentity(b"pw", max_log_n=11)])
    assert open_bytes(sealed, [ScryptIdentity(b"pw", max_log_n=12)]) == b"x"
    assert "pw" not in repr(ScryptRecipient(b"pw", 12))


def test_a_changed_header_fails_the_mac(identity: X25519Identity) -> None:
    sealed = seal_bytes(b"x", [identity.recipient(), X25519Identity.generate().recipient()])
    lines = sealed.split(b"\n")
    lines[3], lines[4], lines[1], lines[2] = lines[1], lines[2], lines[3], lines[4]
    with pytest.raises(MacError):
        open_bytes(b"\n".join(lines), [identity])


def test_reading_from_an_unbuffered_pipe(
    identity: X25519Identity, recipient: X25519Recipient
) -> None:
    data = os.urandom(300_000)
    read_end, write_end = os.pipe()
    sealed = seal_bytes(data, [recipient], armor=True)

    def feed() -> None:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(sealed)

    feeder = threading.Thread(target=feed)
    feeder.start()
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        assert b"".join(open_stream(pipe, [identity])) == data
    feeder.join()
