"""`intake replies import`: replies reach the right witness, sealed; bad bundles import nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from crypto.minisign import SigningKey
from crypto.x25519 import X25519Identity
from intake.cli import ExitCode
from intake.models import Reply
from protocol.bundle import ItemSource
from tests.intake.transfer.conftest import CODENAME_A, CODENAME_B, Stock
from tests.intake.transfer.laptop import ReplyDraft, write_replies, write_signed, write_unsigned
from tests.intake.transfer.site import witness_login


def _draft(stock: Stock, text: str = "thank you, we are looking into it") -> ReplyDraft:
    recipient = str(stock.first.keys.identity.recipient())
    return ReplyDraft(stock.first.submission_id, recipient, text)


def _reply_count(stock: Stock) -> int:
    with stock.services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Reply)) or 0)


def test_replies_are_stored_sealed_and_read_by_their_witness(stock: Stock, tmp_path: Path) -> None:
    path, (rid,) = write_replies(
        tmp_path / "replies", [_draft(stock)], stock.investigator.signing_key
    )
    result = stock.cli("replies", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "imported 1 reply(ies) for 1 witness(es), signed by Test" in result.output
    with stock.services.sessions() as session:
        row = session.get(Reply, rid)
        assert row is not None
        assert row.signed_by == stock.investigator.fingerprint
        assert row.submission_id == stock.first.submission_id  # the account names it
        stored = (stock.services.config.blob_dir / "blobs" / row.blob_name).read_bytes()
    assert stored.startswith(b"age-encryption.org/v1\n")
    assert b"thank you" not in stored
    account = witness_login(stock.services, CODENAME_A)
    assert account is not None
    assert [r.text for r in account.replies] == ["thank you, we are looking into it"]
    assert [r.ref.about for r in account.replies] == [stock.first.submission_id]
    other = witness_login(stock.services, CODENAME_B)
    assert other is not None
    assert other.replies == ()
    # Importing the same bundle again stores nothing twice.
    again = stock.cli("replies", "import", str(path))
    assert again.exit_code == 0
    assert "1 reply(ies) were already imported" in again.output
    assert _reply_count(stock) == 1


def _refused(stock: Stock, path: Path, message: str) -> None:
    blobs = set((stock.services.config.blob_dir / "blobs").iterdir())
    result = stock.cli("replies", "import", str(path))
    assert result.exit_code == ExitCode.BUNDLE, result.output
    assert message in result.stderr
    assert _reply_count(stock) == 0
    assert set((stock.services.config.blob_dir / "blobs").iterdir()) == blobs


def test_a_reply_for_an_unknown_witness_is_refused(stock: Stock, tmp_path: Path) -> None:
    stranger = str(X25519Identity.generate().recipient())
    drafts = [_draft(stock), ReplyDraft(stock.first.submission_id, stranger, "hello")]
    path, _ids = write_replies(tmp_path / "replies", drafts, stock.investigator.signing_key)
    _refused(stock, path, "is for a reply key no witness here has")


def test_a_reply_to_another_witness_submission_is_refused(stock: Stock, tmp_path: Path) -> None:
    recipient = str(stock.first.keys.identity.recipient())
    draft = ReplyDraft(stock.other.submission_id, recipient, "crossed wires")
    path, _ids = write_replies(tmp_path / "replies", [draft], stock.investigator.signing_key)
    _refused(stock, path, "which is not a submission of the witness with that reply key")


def test_replies_signed_by_an_unknown_key_are_refused(stock: Stock, tmp_path: Path) -> None:
    path, _ids = write_replies(tmp_path / "replies", [_draft(stock)], SigningKey.generate())
    _refused(stock, path, "not a known key")


def test_unsigned_replies_are_refused(stock: Stock, tmp_path: Path) -> None:
    path = write_unsigned(tmp_path / "replies", "replies", {"replies": {}})
    _refused(stock, path, "unsigned or refused bundle")


def test_a_reply_that_is_not_an_age_file_is_refused(stock: Stock, tmp_path: Path) -> None:
    draft = _draft(stock)
    meta = {
        "replies": {
            "R-0000000000000000": {
                "witness_reply_recipient": draft.recipient,
                "submission_id": draft.submission_id,
            }
        }
    }
    item = ItemSource.from_bytes("replies/R-0000000000000000.age", b"plain words\n")
    path = write_signed(
        tmp_path / "replies", "replies", stock.investigator.signing_key, meta, [item]
    )
    _refused(stock, path, "is not a binary age file")


def test_replies_whose_items_do_not_match_the_meta_are_refused(
    stock: Stock, tmp_path: Path
) -> None:
    item = ItemSource.from_bytes("replies/R-0000000000000000.age", b"x")
    path = write_signed(
        tmp_path / "replies", "replies", stock.investigator.signing_key, {"replies": {}}, [item]
    )
    _refused(stock, path, "the items are not exactly replies/<id>.age for the replies listed")


def test_a_corrupted_replies_bundle_is_refused(stock: Stock, tmp_path: Path) -> None:
    drafts = [_draft(stock), _draft(stock, "second")]
    path, _ids = write_replies(tmp_path / "replies", drafts, stock.investigator.signing_key)
    data = bytearray(path.read_bytes())
    data[data.rindex(b"age-encryption.org/v1") + 200] ^= 1  # inside the last sealed reply
    path.write_bytes(bytes(data))
    _refused(stock, path, "integrity")


def test_a_reply_over_one_mib_is_refused(stock: Stock, tmp_path: Path) -> None:
    big = _draft(stock, "x" * (1024 * 1024))
    path, _ids = write_replies(tmp_path / "replies", [big], stock.investigator.signing_key)
    _refused(stock, path, "is over 1 MiB")
